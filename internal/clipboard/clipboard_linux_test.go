package clipboard

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestCopyXclip puts text on a real X clipboard (Xvfb in scripts/testenv.sh)
// with Copy and reads it back with xclip -o.
func TestCopyXclip(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY: run inside scripts/testenv.sh for the X clipboard test")
	}
	xclip, err := exec.LookPath("xclip")
	if err != nil {
		t.Skip("xclip not installed (make deps installs it)")
	}
	tool, err := Find("linux", func(k string) string {
		if k == "DISPLAY" {
			return os.Getenv(k)
		}
		return ""
	}, exec.LookPath)
	if err != nil {
		t.Fatal(err)
	}
	// The xclip that stays behind to own the selection is in the process
	// group started here, which the cleanup ends.
	tool.sysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	want := "https://example.test/u/clip-" + time.Now().Format(time.RFC3339Nano)
	pgid := make(chan int, 1)
	tool.started = func(pid int) { pgid <- pid }
	if err := tool.Copy(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	pid := <-pgid
	t.Cleanup(func() { killGroup(t, pid) })
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := exec.Command(xclip, "-o", "-selection", "clipboard").Output()
		if err == nil && string(out) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("clipboard = %q (%v), want %q", out, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killGroup ends the process group pgid and waits until it is gone.
func killGroup(t *testing.T, pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			t.Errorf("process group %d still running after SIGTERM", pgid)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
