package uploader

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// DeleteAfterUpload removes the local file only once its link is synced in
// the queue database, not when it is only in the (unsynced) link log: a
// power cut must not keep the unlink (ext4 commits metadata every 5 s) and
// lose the log page, leaving the file gone and no link anywhere. Power loss
// is simulated: queue.db as it is when the file is gone, links.log as never
// written.
func TestDeleteAfterUploadPowerCut(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.DeleteAfterUpload = true
	cfg.NoIPC = true
	e := f.open(t, cfg)
	p, _ := f.write(t, "only-copy.png", 100)
	if _, _, err := e.Add(p, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "local file removed", func() bool {
		_, err := os.Stat(p)
		return errors.Is(err, os.ErrNotExist)
	})
	// The state on disk at this moment, had the power gone: bbolt is synced;
	// the log's page was only in the page cache.
	snap := filepath.Join(t.TempDir(), "state")
	os.MkdirAll(snap, 0o700)
	db, err := os.ReadFile(filepath.Join(f.state, StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(snap, StoreFile), db, 0o600)
	os.WriteFile(filepath.Join(snap, LinkLogFile), make([]byte, linkLogSize), 0o600)

	cfg2 := cfg
	cfg2.StateDir = snap
	e2 := f.open(t, cfg2)
	h, err := e2.History(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Path != p {
		t.Fatalf("after a power cut the local file is gone; history = %+v, want its link", h)
	}
	if q := e2.Queue(); len(q) != 0 {
		t.Errorf("the uploaded file is queued again: %+v", q)
	}
}
