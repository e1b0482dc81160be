//go:build linux

package uploader

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Run in a child without CAP_LEASE: the steps removeUploaded takes once the
// bytes matched, on ZIPLINE_TRAY_NOLEASE_PATH. Nothing to do otherwise.
func TestDeleteNoLeaseChild(t *testing.T) {
	p := os.Getenv("ZIPLINE_TRAY_NOLEASE_PATH")
	if p == "" {
		return
	}
	fh, hold, err := openNoWriter(p)
	if err != nil {
		fmt.Printf("RESULT open: %v\n", err)
		return
	}
	defer fh.Close()
	defer hold.release()
	fi, _ := fh.Stat()
	deleted, derr := deleteHashed(p, fh, fi, hold)
	fmt.Printf("RESULT deleted=%v err=%v hold=%T\n", deleted, derr, hold)
}

// Where leases are not allowed (not the file's owner: a shared or synced
// folder; file systems without them) nobody can tell whether a program is
// writing the file, so delete-after-upload keeps it: deleting it sent the
// writer's later bytes to a deleted file (found by review).
func TestDeleteAfterUploadNoLeaseKeeps(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil || os.Getuid() != 0 {
		t.Skip("needs root and setpriv")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "shot.png")
	if err := os.WriteFile(p, []byte("uploaded"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 65534, 65534); err != nil { // another user's file
		t.Fatal(err)
	}
	w, err := os.OpenFile(p, os.O_WRONLY, 0) // a program still writing it
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cmd := exec.Command("setpriv", "--bounding-set=-lease", "--inh-caps=-lease", os.Args[0],
		"-test.run=^TestDeleteNoLeaseChild$", "-test.v")
	cmd.Env = append(os.Environ(), "ZIPLINE_TRAY_NOLEASE_PATH="+p)
	out, err := cmd.CombinedOutput()
	res := ""
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "RESULT") {
			res = l
		}
	}
	if res == "" {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child: %s", res)
	if _, err := os.Stat(p); err != nil {
		t.Errorf("a file open for writing by another program was deleted (%s)", res)
	}
}
