package uploader

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	bolt "go.etcd.io/bbolt"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// A configured folder that was missing during one run (an unmounted drive,
// a synced folder not there yet) stays in the settings. Files that arrive in
// it while nothing runs afterwards must be caught up on the next start, like
// in any other configured folder.
func TestCatchUpAfterRunWithFolderMissing(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	dir := filepath.Join(f.dir, "synced")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ac := AutoConfig{Folders: []WatchFolder{{Path: dir}}, CatchUp: true}

	// Run 1: the folder is there and watched (its mark starts now).
	e1, err := Open(f.config())
	if err != nil {
		t.Fatal(err)
	}
	stop := watching(t, e1, ac)
	stop()
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}

	// Run 2: the folder is missing for the whole run (same settings).
	away := dir + ".unmounted"
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	e2, err := Open(f.config())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e2.Watch(ctx, ac) }()
	testutil.WaitFor(t, 10*time.Second, "the missing folder to be waited for", func() bool {
		st := e2.WatcherStatus()
		return len(st) == 1 && st[0].State == FolderWaiting
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if err := e2.Close(); err != nil {
		t.Fatal(err)
	}

	// What the store says now: the run that had the folder missing did not
	// record that it watched it.
	if st, err := openStore(f.state, time.Second); err == nil {
		run, _, _ := st.counter(runKey)
		seen, _, _ := st.counter(seenKey(dir))
		m, _, _ := st.mark(dir)
		st.close()
		t.Logf("after run 2: last run %d, folder last seen by run %d, mark %s", run, seen, m.Format(time.RFC3339))
	}

	// Nothing runs: the folder is back, and a screenshot arrives in it.
	if err := os.Rename(away, dir); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "while-off.png")
	if err := os.WriteFile(shot, []byte("a capture made while nothing ran"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Run 3, same settings: the capture must be caught up.
	e3 := f.open(t, f.config())
	r := recordEvents(t, e3)
	watching(t, e3, ac)
	r.wait(t, 10*time.Second, "catch-up upload of "+shot+
		" (it arrived while nothing ran in a folder that never left the settings; "+
		"it is never uploaded because the run in which the folder was missing did not count as watching it, "+
		"so this run treats it as removed and re-added and starts from now)",
		func(evs []Event) bool { return uploadedPaths(evs)[shot] == 1 })
}

// When the watcher cannot start at all (no inotify instances left), the
// folders' marks must stay put: had they moved to "now", the files that
// arrived while nothing ran would never be caught up once it starts again.
func TestWatchThatCannotStartKeepsMarks(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true}
	stop := watching(t, e, ac) // a known folder, with a mark
	stop()
	// As if the last run ended an hour ago (setMark only moves forward).
	old := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	err := e.st.update(func(tx *bolt.Tx) error {
		data, _ := old.MarshalText()
		return tx.Bucket(bucketMarks).Put([]byte(f.dir), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	watchCannotStart(t, e, ac)
	m, ok, err := e.st.mark(f.dir)
	if err != nil || !ok || !m.Equal(old) {
		t.Errorf("mark after a watch that could not start = %v (%v, %v), want %v", m, ok, err, old)
	}
}

// watchCannotStart runs e.Watch with a folder watcher that cannot start, as
// when the system's inotify instances are used up.
func watchCannotStart(t *testing.T, e *Engine, ac AutoConfig) {
	t.Helper()
	newFSWatcher = func() (*fsnotify.Watcher, error) { return nil, syscall.EMFILE }
	defer func() { newFSWatcher = fsnotify.NewWatcher }()
	if err := e.Watch(context.Background(), ac); err == nil {
		t.Fatal("Watch started without a folder watcher")
	}
}
