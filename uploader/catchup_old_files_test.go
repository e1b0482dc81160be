package uploader

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// Old pictures that were in a folder before it was first watched are never
// uploaded ("adding ~/Pictures never uploads years of old pictures"), and
// while watching, an attribute change alone is not a new version
// (TestWatchNewVersionReportedAgain). The ctime catch-up breaks that:
// anything that changes only an old file's inode while nothing runs — a
// hard-link backup (rsnapshot, cp -al), chmod/chown -R, a macOS xattr set by
// opening it in Preview — makes the next start upload it to the public
// host, though it was neither written nor moved in.
func TestCatchUpUploadsOldFileAfterAttributeChange(t *testing.T) {
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
	ended := time.Now()
	probe := filepath.Join(t.TempDir(), "probe")
	testutil.WaitFor(t, 5*time.Second, "the file system clock to pass the end of run 1", func() bool {
		if err := os.WriteFile(probe, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(probe)
		c, ok := changeTime(fi)
		return err == nil && ok && c.After(ended)
	})
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
	sentinel, _ := f.write(t, "new-shot.png", 300)
	r.wait(t, 15*time.Second, "upload of a new screenshot", func(evs []Event) bool { return uploadedPaths(evs)[sentinel] == 1 })
	// Queued before the sentinel (scanned at start, no settle wait): wait
	// until nothing is left in the queue.
	testutil.WaitFor(t, 10*time.Second, "the queue to empty", func() bool { return len(e2.Queue()) == 0 })
	got := uploadedPaths(r.snapshot())
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
