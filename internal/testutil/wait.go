package testutil

import (
	"testing"
	"time"
)

// WaitFor calls cond until it reports true and fails the test if that takes
// longer than d. It is for conditions that nothing announces (output another
// goroutine or process writes); the poll interval is short and the deadline
// is what fails the test.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
