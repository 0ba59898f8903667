package main

import (
	"strings"
	"testing"
	"time"
)

func TestBatchModes(t *testing.T) {
	var slept time.Duration
	sleep := func(d time.Duration) { slept += d }
	tests := []struct {
		args []string
		roll int
		code int
		ok   bool
		out  string
	}{
		{[]string{"dice"}, 6, 0, true, "rolled a 6: success"},
		{[]string{"dice"}, 3, 1, true, "rolled a 3: failure"},
		{[]string{"dice"}, 1, 1, true, "rolled a 1: failure"},
		{[]string{"sleep", "2s"}, 0, 0, true, "sleeping 2s, then exiting with status 0"},
		{[]string{"sleep", "1s", "3"}, 0, 3, true, "exiting with status 3"},
		{[]string{"sleep", "forever"}, 0, 0, false, ""},
		{[]string{"sleep", "1s", "300"}, 0, 0, false, ""},
		{[]string{"dice", "twice"}, 0, 0, false, ""},
		{nil, 0, 0, false, ""},
	}
	for _, tc := range tests {
		var out strings.Builder
		code, ok := batchMode(tc.args, func() int { return tc.roll }, sleep, &out)
		if code != tc.code || ok != tc.ok || !strings.Contains(out.String(), tc.out) {
			t.Errorf("batchMode(%q) = %d, %v, %q; want %d, %v, %q", tc.args, code, ok, out.String(), tc.code, tc.ok, tc.out)
		}
	}
	if slept != 3*time.Second {
		t.Errorf("slept %v, want 3s", slept)
	}
}

func TestRollDieIsFair(t *testing.T) {
	counts := map[int]int{}
	for range 6000 {
		counts[rollDie()]++
	}
	for face := 1; face <= 6; face++ {
		if n := counts[face]; n < 800 || n > 1200 {
			t.Errorf("face %d came %d times in 6000 rolls", face, n)
		}
	}
	if len(counts) != 6 {
		t.Errorf("faces %v", counts)
	}
}
