//go:build linux

package uploader

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The file was replaced under its name after it was hashed (the next
// capture renamed into place), with no writer anywhere: deleteHashed keeps
// the new file and does not blame a writer.
func TestDeleteHashedReplacedKept(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "shot.png")
	if err := os.WriteFile(p, []byte("uploaded"), 0o644); err != nil {
		t.Fatal(err)
	}
	fh, hold, err := openNoWriter(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	defer hold.release()
	fi, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	// The next capture, written under a temp name and renamed into place.
	tmp := filepath.Join(dir, ".next.png.part")
	if err := os.WriteFile(tmp, []byte("the next capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	deleted, derr := deleteHashed(p, fh, fi, hold)
	if got, _ := os.ReadFile(p); deleted || string(got) != "the next capture" {
		t.Fatalf("the new file was not kept: deleted=%v, %q", deleted, got)
	}
	if errors.Is(derr, errWriterWaiting) {
		t.Errorf("nobody opened it for writing, yet the error is %q (logged: the file is kept: %v)", derr, derr)
	}
}
