//go:build unix

package testutil

import (
	"os/exec"
	"syscall"
	"testing"
)

// TestKillGroup ends a shell and the sleep it started in its group.
func TestKillGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 60 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	pgid := cmd.Process.Pid
	if err := syscall.Kill(-pgid, 0); err != nil {
		t.Fatalf("group %d not running: %v", pgid, err)
	}
	KillGroup(t, pgid)
	if err := syscall.Kill(-pgid, 0); err == nil {
		t.Errorf("group %d still running", pgid)
	}
	if err := <-waited; err == nil {
		t.Error("the shell exited cleanly; want killed by SIGTERM")
	}
}
