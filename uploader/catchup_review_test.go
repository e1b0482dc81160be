package uploader

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
	bolt "go.etcd.io/bbolt"
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

// A folder taken out of the watch list and later added back starts from
// now: what was put in it meanwhile is not uploaded (catchUpSince: "removed
// and added back (not watched by the previous run)"). If the run that adds
// it back cannot start its watcher (no inotify instances left), Watch has
// already claimed the folder for that run, and the failed start leaves the
// claim: the next start takes the folder for one the previous run watched
// and catches up on everything put in it while it was not watched.
func TestFailedStartLeavesRemovedFolderFresh(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	shots, downloads := shotsAndDownloads(t, f)
	both := AutoConfig{Folders: []WatchFolder{{Path: shots}, {Path: downloads}}, CatchUp: true}
	onlyShots := AutoConfig{Folders: []WatchFolder{{Path: shots}}, CatchUp: true}
	e := f.open(t, f.config())

	watching(t, e, both)()      // run 1: both folders
	watching(t, e, onlyShots)() // run 2: the user took Downloads out

	// Inode times come from a coarse clock: let it pass run 2.
	ended := time.Now()
	probe := filepath.Join(t.TempDir(), "probe")
	testutil.WaitFor(t, 5*time.Second, "the file system clock to pass run 2", func() bool {
		if err := os.WriteFile(probe, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(probe)
		c, ok := changeTime(fi)
		return err == nil && ok && c.After(ended)
	})
	// While Downloads is not watched, something private lands in it.
	private := writePrivate(t, downloads)

	// Run 3: Downloads is added back, but the watcher cannot start.
	watchCannotStart(t, e, both)

	// Run 4: it starts.
	r := recordEvents(t, e)
	watching(t, e, both)
	if uploadedBeforeNext(t, e, r, filepath.Join(shots, "new-shot.png"), private) {
		t.Errorf("%s, put in Downloads while Downloads was not in the watch list, was uploaded when Downloads was added back "+
			"(the start that re-added it failed; its claim stayed, so the folder counted as watched by the previous run)", private)
	}
}

// Old pictures that were in a folder before it was first watched are never
// uploaded ("adding ~/Pictures never uploads years of old pictures"), and
// while watching, an attribute change alone is not a new version
// (TestWatchNewVersionReportedAgain). So the ctime alone must not decide
// the catch-up (TestCatchUpTakesFilesArrivedWithOldMtime has what it
// does): anything that changes only an old file's inode while nothing runs — a
// hard-link backup (rsnapshot, cp -al), chmod/chown -R, a macOS xattr set by
// opening it in Preview — would make the next start upload it to the
// public host, though it was neither written nor moved in.
func TestCatchUpSkipsOldFileWhoseInodeChanged(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true}
	years := time.Now().AddDate(-3, 0, 0)
	oldFile := func(name string) string {
		p := filepath.Join(f.dir, name)
		if err := os.WriteFile(p, []byte("a private picture from "+name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, years, years); err != nil {
			t.Fatal(err)
		}
		return p
	}
	linked, chmodded, control := oldFile("linked.png"), oldFile("chmodded.png"), oldFile("control.png")

	// Run 1: the folder is added; its old pictures stay where they are.
	e1, err := Open(f.config())
	if err != nil {
		t.Fatal(err)
	}
	stop := watching(t, e1, ac)
	stop()
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}

	// Inode times come from a coarse clock: go on once it is past the end
	// of run 1 (the folder's mark is when run 1 first saw it).
	waitChangeTimeAfter(t, time.Now())
	// While nothing runs: a nightly hard-link backup, a chmod.
	backup := t.TempDir()
	if err := os.Link(linked, filepath.Join(backup, "linked.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(chmodded, 0o600); err != nil {
		t.Fatal(err)
	}

	e2 := f.open(t, f.config())
	r := recordEvents(t, e2)
	watching(t, e2, ac)
	got := uploadsBeforeNext(t, e2, r, filepath.Join(f.dir, "new-shot.png"))
	if got[control] != 0 {
		t.Fatalf("setup: the untouched old file was uploaded too (%v)", got)
	}
	for _, p := range []string{linked, chmodded} {
		if got[p] != 0 {
			t.Errorf("%s (mtime %s, in the folder before it was ever watched, content unchanged) was uploaded by the catch-up "+
				"after only its inode changed while nothing ran (hard link / chmod): the ctime catch-up takes it for a file moved in",
				filepath.Base(p), years.Format("2006-01-02"))
		}
	}
}

// A watcher that cannot start (no inotify instances left) must leave the
// next start able to catch up ("the next start still catches up, and treats
// the folders as the previous successful run left them"). The failed run
// still takes a run number but claims nothing, so on the next start the
// folder's last run (1) is not the previous run (2): it is taken for a
// folder removed and added back, its mark jumps to now, and the screenshot
// made while nothing ran is never uploaded.
func TestFailedStartThenCatchUp(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true}
	e := f.open(t, f.config())

	watching(t, e, ac)() // run 1: the folder is known, with a mark

	// Nothing runs; a screenshot arrives (mtime set explicitly to now, so
	// it is after the mark whatever the file system clock's grain).
	shot := filepath.Join(f.dir, "while-off.png")
	if err := os.WriteFile(shot, []byte("a capture made while nothing ran"), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := os.Chtimes(shot, now, now); err != nil {
		t.Fatal(err)
	}

	// Run 2: the watcher cannot start.
	watchCannotStart(t, e, ac)

	// Run 3: it starts, same settings; the screenshot must be caught up.
	r := recordEvents(t, e)
	watching(t, e, ac)
	r.wait(t, 15*time.Second, "catch-up upload of "+shot+" after a start that failed", func(evs []Event) bool {
		return uploadedPaths(evs)[shot] == 1
	})
}

// A folder taken out in the settings while the tray runs (SetWatchFolders)
// and added back at a later start must start from now, like one removed
// while nothing ran: catchUpSince treats a folder "not watched by the
// previous run" as removed and re-added. But the run that dropped it had
// claimed it at its start and nothing takes the claim back, so the next
// start takes Downloads for a folder the previous run watched and catches
// up from its old mark: everything put in it while it was out of the
// list (a bank statement) goes to the public file host.
func TestFolderRemovedMidRunStartsFreshWhenAddedBack(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	shots, downloads := shotsAndDownloads(t, f)
	both := AutoConfig{Folders: []WatchFolder{{Path: shots}, {Path: downloads}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, both)() // run 1: both folders known

	// Run 2: the user takes Downloads out in the settings, then quits.
	stop := watching(t, e, both)
	takeOutAllBut(t, e, shots)
	stop()

	// Downloads is out of the list: something private lands in it.
	private := writePrivate(t, downloads)
	now := time.Now()
	if err := os.Chtimes(private, now, now); err != nil {
		t.Fatal(err)
	}

	// Run 3: Downloads is added back.
	r := recordEvents(t, e)
	watching(t, e, both)
	if uploadedBeforeNext(t, e, r, filepath.Join(shots, "new-shot.png"), private) {
		t.Errorf("%s, put in Downloads while it was out of the watch list, was uploaded when Downloads was added back "+
			"(the run that removed it had claimed it at its start; the claim stayed)", private)
	}
}

// A folder taken out in the settings during the very first run (whose
// previous run is 0) and added back later in that same run starts from
// then: what was put in it while it was out of the list is not uploaded.
// (release once wrote seen 0, which equals that previous run.)
func TestFolderRemovedAndReAddedInFirstRunStartsFresh(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	shots, downloads := shotsAndDownloads(t, f)
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	// The very first run (no run recorded yet).
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: shots}, {Path: downloads}}, CatchUp: true})

	// The user takes Downloads out.
	takeOutAllBut(t, e, shots)
	// Out of the list: something private lands in it.
	private := writePrivate(t, downloads)
	later := time.Now()
	if err := os.Chtimes(private, later, later); err != nil {
		t.Fatal(err)
	}
	// Added back in the same run: it must start from now.
	if err := e.SetWatchFolders([]WatchFolder{{Path: shots}, {Path: downloads}}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "both watched", func() bool {
		st := e.WatcherStatus()
		n := 0
		for _, s := range st {
			if s.State == FolderWatching {
				n++
			}
		}
		return n == 2
	})
	if uploadedBeforeNext(t, e, r, filepath.Join(downloads, "new-download.png"), private) {
		t.Errorf("%s, put in Downloads while it was out of the watch list, was uploaded when Downloads was added back "+
			"in the first run (release wrote seen 0, which equals prevRun 0 of a first run)", private)
	}
}

// shotsAndDownloads makes two folders to watch in the fixture's folder.
func shotsAndDownloads(t *testing.T, f *fixture) (shots, downloads string) {
	t.Helper()
	shots, downloads = filepath.Join(f.dir, "shots"), filepath.Join(f.dir, "downloads")
	for _, d := range []string{shots, downloads} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return shots, downloads
}

// writePrivate puts a file in dir that must never reach the server.
func writePrivate(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "bank-statement.png")
	if err := os.WriteFile(p, []byte("not for a public file host"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// takeOutAllBut changes the running watch to folder alone.
func takeOutAllBut(t *testing.T, e *Engine, folder string) {
	t.Helper()
	if err := e.SetWatchFolders([]WatchFolder{{Path: folder}}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "only "+folder+" watched", func() bool {
		st := e.WatcherStatus()
		return len(st) == 1 && st[0].Path == folder && st[0].State == FolderWatching
	})
}

// uploadedBeforeNext writes next (a new file in a watched folder), waits
// for its upload and an empty queue — anything the catch-up took is done
// by then — and reports whether private was uploaded.
func uploadedBeforeNext(t *testing.T, e *Engine, r *recorder, next, private string) bool {
	t.Helper()
	return uploadsBeforeNext(t, e, r, next)[private] != 0
}

// uploadsBeforeNext writes the file next, waits for its upload and an
// empty queue (files a start catches up are queued before it), and returns
// how many times each path was uploaded.
func uploadsBeforeNext(t *testing.T, e *Engine, r *recorder, next string) map[string]int {
	t.Helper()
	if err := os.WriteFile(next, []byte("a new file"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 15*time.Second, "upload of "+next, func(evs []Event) bool { return uploadedPaths(evs)[next] == 1 })
	// Empty, and every link announced (a file leaves the queue just before
	// its link is announced; two may go in one request).
	testutil.WaitFor(t, 10*time.Second, "the queue to empty", func() bool { return len(e.Queue()) == 0 && e.Status().Running == 0 })
	return uploadedPaths(r.drain(t, e))
}
