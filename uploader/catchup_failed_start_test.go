package uploader

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// A folder taken out of the watch list and later added back starts from
// now: what was put in it meanwhile is not uploaded (catchUpSince: "removed
// and added back (not watched by the previous run)"). If the run that adds
// it back cannot start its watcher (no inotify instances left), Watch has
// already claimed the folder for that run, and the failed start leaves the
// claim: the next start takes the folder for one the previous run watched
// and catches up on everything put in it while it was not watched.
func TestFailedStartClaimsRemovedFolder(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	shots, downloads := filepath.Join(f.dir, "shots"), filepath.Join(f.dir, "downloads")
	for _, d := range []string{shots, downloads} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
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
	private := filepath.Join(downloads, "bank-statement.png")
	if err := os.WriteFile(private, []byte("not for a public file host"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Run 3: Downloads is added back, but the watcher cannot start.
	watchCannotStart(t, e, both)

	// Run 4: it starts.
	r := recordEvents(t, e)
	watching(t, e, both)
	sentinel := filepath.Join(shots, "new-shot.png")
	if err := os.WriteFile(sentinel, []byte("a new screenshot"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 15*time.Second, "upload of a new screenshot", func(evs []Event) bool { return uploadedPaths(evs)[sentinel] == 1 })
	testutil.WaitFor(t, 10*time.Second, "the queue to empty", func() bool { return len(e.Queue()) == 0 })
	if n := uploadedPaths(r.snapshot())[private]; n != 0 {
		t.Errorf("%s, put in Downloads while Downloads was not in the watch list, was uploaded when Downloads was added back "+
			"(the start that re-added it failed; its claim stayed, so the folder counted as watched by the previous run)", private)
	}
}
