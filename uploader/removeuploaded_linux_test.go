//go:build linux

package uploader

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// deleteAfterEngine opens an engine that deletes files after upload; a
// test may set testRemoveChunk (reset once the engine is closed).
func deleteAfterEngine(t *testing.T) (*fixture, *Engine, *recorder) {
	t.Cleanup(func() { testRemoveChunk = nil }) // runs after the engine's Close
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.DeleteAfterUpload = true
	e := f.open(t, cfg)
	return f, e, recordEvents(t, e)
}

// A program that opens the file for writing while delete-after-upload is
// checking it (the next capture saved under the same name) is held by the
// read lease; the check must let it go and keep the file. Holding on and
// deleting made the writer's open complete on the deleted file: its bytes,
// written and closed without error, were lost (found by review).
func TestDeleteAfterUploadLetsWriterGo(t *testing.T) {
	f, e, r := deleteAfterEngine(t)
	p, _ := f.write(t, "shot.png", 3000)
	next := []byte("the next capture, saved under the same name")
	var once sync.Once
	wrote := make(chan error, 1)
	testRemoveChunk = func(path string, broken func() bool) {
		if path != p {
			return
		}
		once.Do(func() {
			go func() { wrote <- os.WriteFile(p, next, 0o644) }() // O_TRUNC, as a tool saves
			// The writer waits on the lease: the check sees it.
			testutil.WaitFor(t, 10*time.Second, "the writer to wait on the lease", broken)
		})
	}
	if _, _, err := e.Add(p, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 20*time.Second, "the upload", func(evs []Event) bool { return uploadedPaths(evs)[p] == 1 })
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the writer is still held")
	}
	testutil.WaitFor(t, 10*time.Second, "the removal check", func() bool {
		e.commit.mu.Lock()
		defer e.commit.mu.Unlock()
		return e.commit.checked >= 1
	})
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("the file a program was writing was deleted: %v", err)
	}
	if !bytes.Equal(got, next) {
		t.Errorf("the file holds %q, want the writer's bytes", got)
	}
}

// Delete-after-upload checks a file's bytes again before deleting it; that
// takes long for a big file, and must not hold up the links of the uploads
// that finish meanwhile (it ran on the goroutine that records and announces
// them: found by review).
func TestDeleteAfterUploadDoesNotHoldUpLinks(t *testing.T) {
	f, e, r := deleteAfterEngine(t)
	big, _ := f.write(t, "recording.mkv", 5000)
	hashing, done := make(chan struct{}), make(chan struct{})
	var once sync.Once
	testRemoveChunk = func(path string, _ func() bool) {
		if path == big {
			once.Do(func() { close(hashing); <-done }) // a slow disk
		}
	}
	defer close(done)
	if _, _, err := e.Add(big, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hashing:
	case <-time.After(20 * time.Second):
		t.Fatal("the big file was never checked for removal")
	}
	small, _ := f.write(t, "shot.png", 2000)
	if _, _, err := e.Add(small, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 20*time.Second, "the next link while the big file is being checked", func(evs []Event) bool {
		return uploadedPaths(evs)[small] == 1
	})
	if _, err := os.Stat(filepath.Join(f.dir, "recording.mkv")); err != nil {
		t.Errorf("the big file went before its check ended: %v", err)
	}
}

// A long (legal) file name is deleted like any other.
func TestDeleteAfterUploadLongName(t *testing.T) {
	f, e, r := deleteAfterEngine(t)
	p, _ := f.write(t, strings.Repeat("x", 240)+".png", 3000) // 244 bytes: NAME_MAX is 255
	if _, _, err := e.Add(p, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 20*time.Second, "the upload", func(evs []Event) bool { return uploadedPaths(evs)[p] == 1 })
	testutil.WaitFor(t, 10*time.Second, "the file to be deleted", func() bool {
		_, err := os.Stat(p)
		return os.IsNotExist(err)
	})
}
