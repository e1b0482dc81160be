//go:build unix

package uploader

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A FIFO where a file was must not block the upload in open(2) forever
// (no context can interrupt it, and Close would then wait forever); it is
// skipped as not a regular file.
func TestReadSmallFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe.png")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip(err)
	}
	done := make(chan struct{})
	var err error
	go func() { _, _, err = readSmall(p); close(done) }()
	select {
	case <-done:
		if !errors.Is(err, errNotRegular) {
			t.Errorf("readSmall(FIFO) error = %v, want errNotRegular", err)
		}
	case <-time.After(3 * time.Second):
		// unblock the open so the test process can exit
		if w, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("readSmall blocked on a FIFO (the old code skipped it after os.Stat)")
	}
}
