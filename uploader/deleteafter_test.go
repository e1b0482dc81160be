package uploader

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// DeleteAfterUpload removes a file after the fold (50 ms after the last
// link, later under load). A tool that saves every capture under the same
// name (a fixed "screenshot.png") may write the next capture there first:
// that capture, never uploaded, must not be removed.
func TestDeleteRemovesNewerFile(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.DeleteAfterUpload = true
	cfg.NoIPC = true
	e := f.open(t, cfg)
	ch, stop := e.Subscribe()
	defer stop()
	p, _ := f.write(t, "screenshot.png", 100)
	if _, _, err := e.Add(p, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	next := []byte("the next capture, not uploaded yet")
	timeout := time.After(10 * time.Second)
	for done := false; !done; {
		select {
		case ev := <-ch:
			if ev.Type == EventUploaded && ev.Path == p {
				// The next capture lands under the same name (os.Rename, as
				// screenshot tools save).
				tmp := p + ".tmp"
				if err := os.WriteFile(tmp, next, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, p); err != nil {
					t.Fatal(err)
				}
				done = true
			}
		case <-timeout:
			t.Fatal("no upload")
		}
	}
	e.Close() // the committer's last fold and its removals
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatal("the next capture, written after the first was uploaded, was deleted without being uploaded")
	}
	if !bytes.Equal(data, next) {
		t.Fatalf("content %q", data)
	}
}
