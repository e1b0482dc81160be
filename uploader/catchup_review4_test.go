package uploader

// A fourth review of the catch-up (2180989..6893230): each test fails on
// 6893230.

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// A camera restarts its numbering (card formatted, phone reset): the
// photo imported while nothing runs (rsync -t, Syncthing, a move from the
// card, so its mtime is when it was taken, before the mark) has the name
// of an old picture the folder held, deleted or overwritten since. The
// running watcher would upload it; the catch-up takes the held name for
// the old picture and the capture is never uploaded.
func TestReview8CaptureReusingHeldNameIsLost(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	name := filepath.Join(f.dir, "DSC_0001.jpg")
	review6Old(t, name) // the old DSC_0001, three years old
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, ac)() // run 1: the folder held DSC_0001.jpg

	// While nothing runs: the old one is archived, and the camera's new
	// DSC_0001.jpg (taken two days ago) is imported keeping its mtime.
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte("a new photo that the camera numbered DSC_0001 again"), 0o644); err != nil {
		t.Fatal(err)
	}
	taken := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(name, taken, taken); err != nil {
		t.Fatal(err)
	}

	r := recordEvents(t, e)
	watching(t, e, ac)
	if !uploadedBeforeNext(t, e, r, filepath.Join(f.dir, "new-shot.png"), name) {
		t.Errorf("%s, a new capture imported while nothing ran (ctime after the mark, new inode, new size and "+
			"mtime), was not caught up: its name alone matched an old picture the folder held", name)
	}
}

// A photo manager renames old pictures by date and sets their file date
// from the EXIF date (exiftool '-FileName<DateTimeOriginal'
// '-FileModifyDate<DateTimeOriginal'), while nothing runs. The new name is
// not held, and the inode, though held, is keyed with the old mtime: the
// old picture is uploaded. (Renamed alone it stays, see
// TestReview6RenamedOldPictureUploaded.)
func TestReview8RenamedAndRedatedOldPictureUploaded(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	old := review6Old(t, filepath.Join(f.dir, "IMG_0001.png"))
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, ac)() // run 1

	waitChangeTimeAfter(t, time.Now())
	renamed := filepath.Join(f.dir, "2023-06-01 beach.png")
	if err := os.Rename(old, renamed); err != nil {
		t.Fatal(err)
	}
	exif := time.Date(2023, 6, 1, 14, 3, 0, 0, time.Local) // still years before the mark
	if err := os.Chtimes(renamed, exif, exif); err != nil {
		t.Fatal(err)
	}
	r := recordEvents(t, e)
	watching(t, e, ac)
	if uploadedBeforeNext(t, e, r, filepath.Join(f.dir, "new-shot.png"), renamed) {
		t.Errorf("%s, an old picture the folder held, renamed and given its EXIF date (still years old) while "+
			"nothing ran, was uploaded by the catch-up: the held inode is keyed with the mtime", renamed)
	}
}

// A camera card (or a share) is the watched folder. It is taken out while
// the app runs: the folder waits to exist, and the camera writes photos on
// it. The app quits (the laptop shuts down) before it is back; at the next
// start the card is in again. Had the card come back in the same run,
// the photos made while it was waited for would have been uploaded
// (changedSince the folder went missing); instead the folder's mark moved
// on all the while it was missing (saveMarks writes every configured
// folder's mark), so the catch-up starts after them. Lost.
func TestReview8PhotosTakenWhileFolderMissingLostAcrossRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ziplinetest.RoleAdmin)
	card := filepath.Join(f.dir, "DCIM")
	if err := os.MkdirAll(card, 0o755); err != nil {
		t.Fatal(err)
	}
	ac := AutoConfig{Folders: []WatchFolder{{Path: card}}, CatchUp: true}
	e := f.open(t, f.config())
	stop := watching(t, e, ac) // run 1: the card is in

	away := card + ".in-camera"
	if err := os.Rename(card, away); err != nil { // the card is taken out
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the card's folder to be waited for", func() bool {
		st := e.WatcherStatus()
		return len(st) == 1 && st[0].State == FolderWaiting
	})
	photo := filepath.Join(away, "DSC_0100.jpg") // the camera writes a photo
	if err := os.WriteFile(photo, []byte("a photo taken while the card was in the camera"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(photo)
	if err != nil {
		t.Fatal(err)
	}
	// The app keeps running a while longer than the mark's slack (a minute).
	made := fi.ModTime()
	if c, ok := changeTime(fi); ok && c.After(made) {
		made = c
	}
	slack := markSlack + DefaultDebounce + DefaultSettle
	testutil.WaitFor(t, slack+30*time.Second, "the run to last longer than the mark's slack after the photo", func() bool {
		return time.Since(made) > slack+time.Second
	})
	stop() // the app quits

	if err := os.Rename(away, card); err != nil { // the card is back in
		t.Fatal(err)
	}
	r := recordEvents(t, e)
	watching(t, e, ac) // next start
	shot := filepath.Join(card, "DSC_0100.jpg")
	if !uploadedBeforeNext(t, e, r, filepath.Join(card, "DSC_0101.jpg"), shot) {
		t.Errorf("%s, taken while the folder was missing and waited for, was never uploaded: the folder's "+
			"last-watched mark moved on while it was not watched", shot)
	}
}

// ~/Pictures is a symlink to another disk (common), watched with its
// subfolders; the screenshot tool saves in ~/Pictures/Screenshots (GNOME's
// default). Since 6893230 no subfolder is watched through a symlinked
// folder, so captures saved in its subfolders while the app runs are never
// uploaded, and the status says "watching" with no error. (The catch-up
// walks them, but they arrive during the run, before the next mark.)
func TestReview8SymlinkedRecursiveFolderSubfolderCapturesLost(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	if err := os.MkdirAll(filepath.Join(f.dir, "Screenshots"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "Pictures")
	if err := os.Symlink(f.dir, link); err != nil {
		t.Fatal(err)
	}
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: link, Recursive: true}}, CatchUp: true})
	if st := e.WatcherStatus(); len(st) != 1 || st[0].Err != "" {
		t.Logf("status: %+v", st)
	}
	shot := filepath.Join(link, "Screenshots", "Screenshot from 2026-11-24 08-40-00.png")
	if err := os.WriteFile(shot, []byte("a new capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 15*time.Second, "upload of "+shot+" (saved in a subfolder of a watched folder with subfolders on; "+
		"the folder is a symlink, and no subfolder is watched through one)",
		func(evs []Event) bool { return uploadedPaths(evs)[shot] == 1 })
}
