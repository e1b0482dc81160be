//go:build unix

package testutil

import (
	"syscall"
	"testing"
	"time"
)

// KillGroup ends the process group pgid (a command started with
// SysProcAttr.Setpgid, so that what it starts in turn, such as a clipboard
// tool, ends with it): SIGTERM, then a wait with a deadline until the group
// is gone, else SIGKILL and a test error. Someone must Wait for the leader,
// or it stays in the group as a zombie.
func KillGroup(t testing.TB, pgid int) {
	t.Helper()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			t.Errorf("process group %d outlived SIGTERM", pgid)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
