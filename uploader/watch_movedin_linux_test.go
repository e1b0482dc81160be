//go:build linux

package uploader

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// movedInChildEnv names the environment that makes
// TestWatchMovedInUnknownWriterWaits run its child half.
const movedInChildEnv = "ZIPLINE_TRAY_MOVEDIN_CHILD"

// A file renamed in while still open for writing, where the read lease
// cannot be taken (the file belongs to another user; likewise NFS and other
// file systems without leases), must not be reported half-written: the
// writer check cannot tell, so only the gate may decide. openForCheck
// answers nil for "cannot tell" and the moved-in path takes it as "nobody
// writes".
//
// The watcher must not have CAP_LEASE, so the test runs its watcher in a
// child process as nobody (uid 65534), on a file that belongs to root and
// that the child itself holds open for writing. Needs root to set that up.
func TestWatchMovedInUnknownWriterWaits(t *testing.T) {
	if os.Getenv(movedInChildEnv) != "" {
		movedInChild(t)
		return
	}
	if !writersDetected {
		t.Skip("no writer check here")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the file must belong to another user than the watcher")
	}
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir, other, bin := filepath.Join(base, "watched"), filepath.Join(base, "other"), filepath.Join(base, "bin")
	for _, d := range []string{dir, other, bin} {
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o777); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	// The test binary sits in a folder only root may enter: copy it.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(bin, "uploader.test")
	copyExecutable(t, exe, child)
	// A file of root's, open for writing: the child writes through it.
	src := filepath.Join(other, "rec.mp4")
	f, err := os.OpenFile(src, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, child, "-test.run=^TestWatchMovedInUnknownWriterWaits$", "-test.count=1", "-test.v")
	cmd.Dir = base
	cmd.Env = append(os.Environ(), movedInChildEnv+"=1", "ZIPLINE_TRAY_MOVEDIN_DIR="+dir, "ZIPLINE_TRAY_MOVEDIN_OTHER="+other)
	cmd.ExtraFiles = []*os.File{f} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, NoSetGroups: true}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close() // the child is the only writer now
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child (watcher as uid 65534): %v\n%s", err, out.String())
	}
}

// movedInChild runs as nobody: it holds a file of root's open for
// writing (fd 3), renames it into a watched folder half-written, and checks
// that the watcher does not report it.
func movedInChild(t *testing.T) {
	dir, other := os.Getenv("ZIPLINE_TRAY_MOVEDIN_DIR"), os.Getenv("ZIPLINE_TRAY_MOVEDIN_OTHER")
	f := os.NewFile(3, "rec.mp4")
	defer f.Close()
	// With an hour of debounce only the moved-in path can report.
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}, Debounce: time.Hour})
	if _, err := f.Write(bytes.Repeat([]byte{'r'}, 10_000)); err != nil {
		t.Fatal(err)
	}
	movedInNotReported(t, rec, filepath.Join(other, "rec.mp4"), dir, other)
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
