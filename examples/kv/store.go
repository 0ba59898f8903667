package main

import "sync"

// store is a concurrency-safe map from keys to values. It copies values in
// and out, so callers never share a slice with it.
type store struct {
	mu   sync.RWMutex
	data map[string][]byte
}

// newStore returns an empty store.
func newStore() *store {
	return &store{data: make(map[string][]byte)}
}

// get returns a copy of the value under key, and whether it was present.
func (s *store) get(key string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.data[key]
	return append([]byte(nil), v...), ok
}

// put stores a copy of value under key and reports whether key was new.
func (s *store) put(key string, value []byte) (created bool) {
	v := append(make([]byte, 0, len(value)), value...)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, existed := s.data[key]
	s.data[key] = v
	return !existed
}

// delete removes key and reports whether it was present.
func (s *store) delete(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.data[key]
	delete(s.data, key)
	return ok
}
