package backoff

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := New(time.Second, 5*time.Second)
	if !b.Idle() {
		t.Fatal("a new back-off is idle")
	}
	var got []time.Duration
	for i := 0; i < 5; i++ {
		got = append(got, b.Next())
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
	b.Reset()
	if !b.Idle() || b.Next() != time.Second {
		t.Fatal("reset does not start over")
	}
}
