package uploader

// A third review of the catch-up of files that arrived with an old mtime
// (heldFiles, 2180989..38a9044): each test fails on 38a9044.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// ~/Pictures is a symlink to /data/pictures, watched with its subfolders;
// a screenshot tool's folder is also watched (listed after it), by the
// path a folder picker resolved (/data/pictures/Screenshots). Now that the symlinked root is
// walked, its subfolders are watched by the link's path: inotify gives the
// same watch for the same directory, so when ~/Pictures is taken out of
// the settings, removing link/Screenshots removes the watch the other
// folder relies on. Its new captures are never uploaded (no error shown;
// Status still says watching).
func TestReview7RemovingSymlinkedFolderStopsWatchingFolderInside(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	shots := filepath.Join(f.dir, "Screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "Pictures")
	if err := os.Symlink(f.dir, link); err != nil {
		t.Fatal(err)
	}
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: link, Recursive: true}, {Path: shots}}})

	// ~/Pictures is taken out of the settings.
	takeOutAllBut(t, e, shots)

	shot := filepath.Join(shots, "new-shot.png")
	if err := os.WriteFile(shot, []byte("a new capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 15*time.Second, "upload of "+shot+" (the folder is still watched, but taking the symlinked "+
		"~/Pictures out removed its subfolder watch link/Screenshots, which is the same inotify watch)",
		func(evs []Event) bool { return uploadedPaths(evs)[shot] == 1 })
}

// An old picture the folder held at the last start is deleted while
// nothing runs, and a capture then arrives with an older mtime (Syncthing
// from the phone, cp -a, a move from another disk): a new file that, on
// ext4, gets the inode number just freed. The catch-up takes it for the
// old picture (held by inode) and the capture is never uploaded.
func TestReview7CaptureGettingFreedInodeIsLost(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	old := review6Old(t, filepath.Join(f.dir, "IMG_0001.png"))
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, ac)() // run 1: the folder held IMG_0001.png

	waitChangeTimeAfter(t, time.Now())
	// While nothing runs: the old picture is deleted, a capture arrives
	// keeping its mtime (taken an hour ago on the phone, before the mark).
	fi, err := os.Stat(old)
	if err != nil {
		t.Fatal(err)
	}
	oldIno, ok := fileIno(fi)
	if !ok {
		t.Skip("no inode numbers here")
	}
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(f.dir, "PXL_20261124_0700.png")
	if err := os.WriteFile(shot, []byte("a capture synced from the phone while nothing ran"), 0o644); err != nil {
		t.Fatal(err)
	}
	hourAgo := time.Now().Add(-time.Hour)
	if err := os.Chtimes(shot, hourAgo, hourAgo); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(shot); err != nil {
		t.Fatal(err)
	} else if ino, _ := fileIno(fi); ino != oldIno {
		t.Skip("this file system did not reuse the freed inode number")
	}

	r := recordEvents(t, e)
	watching(t, e, ac)
	if !uploadedBeforeNext(t, e, r, filepath.Join(f.dir, "new-shot.png"), shot) {
		t.Errorf("%s arrived while nothing ran (ctime after the mark, a name the folder never held) but was not "+
			"caught up: its inode number, freed by a deleted old picture, is in the held set", shot)
	}
}

// A subfolder that cannot be read when the folder starts being watched is
// left out of the in-memory record (f.held) used by the rescan after lost
// events. Made readable while the app runs (chmod -R, which moves the
// ctime of every old picture in it), then a burst overflows the watcher:
// the rescan takes its old pictures as "arrived in this run" and uploads
// them. The saved record skips a walk with errors; the in-memory one does
// not. Root runs it as user nobody (root reads everything).
func TestReview7RescanAfterUnreadableSubfolderTakesOldPictures(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t)
		return
	}
	dir := t.TempDir()
	old := review6Locked(t, dir)
	fw, drop, rec := wtStartLossy(t, WatchFolder{Path: dir, Recursive: true})
	review6Unlock(t, old) // while watching
	wtSentinel(t, rec, dir)
	if rec.count(old) != 0 {
		t.Fatal("setup: the chmod alone reported the old picture")
	}
	wtOverflow(t, fw, drop, rec, dir) // a burst: one of its files' events is lost
	if n := rec.count(old); n != 0 {
		t.Errorf("%s (old, in the folder before it was watched; its subfolder was unreadable at start, then "+
			"chmodded) was reported %d times by the rescan after an overflow: the in-memory record of a walk "+
			"with errors is taken as complete", old, n)
	}
}

// The record of what a folder held is deleted when the folder is taken out
// of the settings while the watcher runs (release), but not when it is
// taken out while nothing runs (the app paused or quit, config edited).
// Added back, the folder starts from now; if its walk then has an error
// (one unreadable subfolder), nothing is saved and the record from before
// it was taken out stays. Everything put in the folder meanwhile is
// missing from it: the next time such an old file's inode changes (the
// nightly hard-link backup), the catch-up takes it as "arrived". Run as a
// user other than root (root reads everything).
func TestReview7StaleRecordOfFolderAddedBackUploadsOldPicture(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t)
		return
	}
	f := newFixture(t, ziplinetest.RoleAdmin)
	other := filepath.Join(t.TempDir(), "other")
	locked := filepath.Join(f.dir, "locked")
	for _, d := range []string{other, locked} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	both := AutoConfig{Folders: []WatchFolder{{Path: f.dir, Recursive: true}, {Path: other}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, both)() // run 1: the folder is known; what it holds is recorded

	// Run 2: the folder was taken out of the settings while nothing ran.
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: other}}, CatchUp: true})()

	// While it is out of the list: an old private picture is put in it (cp -a).
	private := review6Old(t, filepath.Join(f.dir, "passport-scan.png"))
	if err := os.Chmod(locked, 0o000); err != nil {
		t.Fatal(err)
	}
	// Run 3: added back (while nothing ran): it starts from now; its walk
	// has an error, so what it holds is not saved.
	watching(t, e, both)()

	waitChangeTimeAfter(t, time.Now())
	review6Backup(t, private) // the nightly backup, while nothing runs

	r := recordEvents(t, e)
	watching(t, e, both) // run 4, same settings
	if uploadedBeforeNext(t, e, r, filepath.Join(f.dir, "new-shot.png"), private) {
		t.Errorf("%s (put in the folder while it was out of the settings, there when it was added back, only "+
			"hard-linked since) was uploaded: the record from before the folder was taken out was used", private)
	}
}

// BenchmarkReview7HeldRecord100k measures what each start now costs on
// the watcher's event loop for a folder of 100k files: the walk (one
// lstat a file), the record, its encoding and decoding.
func BenchmarkReview7HeldRecord100k(b *testing.B) {
	dir := b.TempDir()
	for i := range 100_000 {
		sub := filepath.Join(dir, fmt.Sprintf("d%03d", i/1000))
		if i%1000 == 0 {
			if err := os.Mkdir(sub, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("IMG_%06d.png", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var size int
	for range b.N {
		l := newLister(true, nil)
		take := arrivedSince(time.Now(), nil)
		if err := walkFolder(dir, true, nil, func(p string, fi fs.FileInfo) {
			rel, _ := filepath.Rel(dir, p)
			if !take(rel, fi) {
				l.add(rel, fi)
			}
		}, nil); err != nil {
			b.Fatal(err)
		}
		h := l.done()
		v, _ := h.MarshalBinary()
		size = len(v)
		var back heldFiles
		if err := back.UnmarshalBinary(v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "record-bytes")
}
