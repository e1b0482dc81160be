package uploader

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

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
func TestFolderRemovedMidRunCaughtUpWhenAddedBack(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	shots, downloads := filepath.Join(f.dir, "shots"), filepath.Join(f.dir, "downloads")
	for _, d := range []string{shots, downloads} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	both := AutoConfig{Folders: []WatchFolder{{Path: shots}, {Path: downloads}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, both)() // run 1: both folders known

	// Run 2: the user takes Downloads out in the settings, then quits.
	stop := watching(t, e, both)
	if err := e.SetWatchFolders([]WatchFolder{{Path: shots}}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "only shots watched", func() bool {
		st := e.WatcherStatus()
		return len(st) == 1 && st[0].Path == shots && st[0].State == FolderWatching
	})
	stop()

	// Downloads is out of the list: something private lands in it.
	private := filepath.Join(downloads, "bank-statement.png")
	if err := os.WriteFile(private, []byte("not for a public file host"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := os.Chtimes(private, now, now); err != nil {
		t.Fatal(err)
	}

	// Run 3: Downloads is added back.
	r := recordEvents(t, e)
	watching(t, e, both)
	sentinel := filepath.Join(shots, "new-shot.png")
	if err := os.WriteFile(sentinel, []byte("a new screenshot"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 15*time.Second, "upload of a new screenshot", func(evs []Event) bool { return uploadedPaths(evs)[sentinel] == 1 })
	testutil.WaitFor(t, 10*time.Second, "the queue to empty", func() bool { return len(e.Queue()) == 0 })
	if n := uploadedPaths(r.snapshot())[private]; n != 0 {
		t.Errorf("%s, put in Downloads while it was out of the watch list, was uploaded when Downloads was added back "+
			"(the run that removed it had claimed it at its start; the claim stayed)", private)
	}
}
