package uploader

// A second engineer's review of the catch-up of files that arrived with an
// old mtime (see heldFiles): each test failed before its fix.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
	bolt "go.etcd.io/bbolt"
)

// review6Old writes an old private picture (mtime years ago) at p.
func review6Old(t *testing.T, p string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("an old private picture "+p), 0o644); err != nil {
		t.Fatal(err)
	}
	years := time.Now().AddDate(-3, 0, 0)
	if err := os.Chtimes(p, years, years); err != nil {
		t.Fatal(err)
	}
	return p
}

// review6Locked writes an old picture in a subfolder of dir that its
// owner cannot read (another user's, or locked).
func review6Locked(t *testing.T, dir string) string {
	t.Helper()
	private := filepath.Join(dir, "private")
	old := review6Old(t, filepath.Join(private, "old.png"))
	if err := os.Chmod(private, 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(private, 0o755) })
	return old
}

// review6Unlock makes the picture review6Locked wrote readable (chmod -R
// u+rwX), which moves its ctime.
func review6Unlock(t *testing.T, old string) {
	t.Helper()
	if err := os.Chmod(filepath.Dir(old), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o644); err != nil {
		t.Fatal(err)
	}
}

// review6Backup hard-links p into a backup folder (rsnapshot, cp -al): only
// its inode changes (ctime, link count).
func review6Backup(t *testing.T, p string) {
	t.Helper()
	if err := os.Link(p, filepath.Join(t.TempDir(), filepath.Base(p))); err != nil {
		t.Fatal(err)
	}
}

// "Include subfolders" turned on while nothing runs (the app paused, the
// settings changed, resumed after the nightly backup): the recorded set
// holds only the top level, so every old picture in the subfolders whose
// inode changed counts as "arrived" and goes to the public host.
func TestReview6RecursionTurnedOnUploadsOldSubfolderPictures(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	deep := review6Old(t, filepath.Join(f.dir, "2019-holiday", "beach.png"))
	e := f.open(t, f.config())

	// Run 1: the folder is added, without its subfolders.
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true})()

	waitChangeTimeAfter(t, time.Now())
	review6Backup(t, deep) // while nothing runs

	// Run 2: same folder, now with its subfolders.
	r := recordEvents(t, e)
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir, Recursive: true}}, CatchUp: true})
	if uploadedBeforeNext(t, e, r, filepath.Join(f.dir, "new-shot.png"), deep) {
		t.Errorf("%s (old, in a subfolder before the folder was ever watched, only hard-linked by a backup) was uploaded "+
			"by the catch-up once subfolders were turned on: the set recorded at the last start held only the top level", deep)
	}
}

// The include list widened while nothing runs ("pdf" added while paused):
// the recorded set holds only the files the old list took, so old PDFs
// whose inode changed count as "arrived".
func TestReview6IncludeWidenedUploadsOldFiles(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	scan := review6Old(t, filepath.Join(f.dir, "tax-return.pdf"))
	e := f.open(t, f.config())

	// Run 1: pictures only.
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, Include: []string{"png"}, CatchUp: true})()

	waitChangeTimeAfter(t, time.Now())
	review6Backup(t, scan) // while nothing runs

	// Run 2: PDFs too.
	r := recordEvents(t, e)
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, Include: []string{"png", "pdf"}, CatchUp: true})
	if uploadedBeforeNext(t, e, r, filepath.Join(f.dir, "new-shot.png"), scan) {
		t.Errorf("%s (old, in the folder before it was ever watched, only hard-linked by a backup) was uploaded by the "+
			"catch-up after pdf was added to the include list: the recorded set leaves out files the old list did not take", scan)
	}
}

// Pre-existing, in the lines this change rewrote: after a watcher overflow
// the rescan takes every file whose ctime is after the folder's start, so
// an old picture the folder held at start, hard-linked by the nightly
// backup while the app runs, is reported (and uploaded). The set this
// change records at start would tell it apart.
func TestReview6OverflowRescanTakesOldPictureWhoseInodeChanged(t *testing.T) {
	dir := t.TempDir()
	old := review6Old(t, filepath.Join(dir, "old.png"))
	fw, drop, rec := wtStartLossy(t, WatchFolder{Path: dir})
	review6Backup(t, old) // the nightly backup, while watching
	wtSentinel(t, rec, dir)
	if rec.count(old) != 0 {
		t.Fatal("setup: the hard link alone reported the old picture")
	}
	wtOverflow(t, fw, drop, rec, dir) // a burst: one of its files' events is lost
	if n := rec.count(old); n != 0 {
		t.Errorf("%s (old, held by the folder when it started being watched, only hard-linked) was reported %d times "+
			"by the rescan after an overflow: the rescan goes by ctime alone", old, n)
	}
}

// Pre-existing: a folder missing at start that appears a moment later (a
// network share or vault mounted after login) gets no catch-up from its
// mark, only files changed since it went missing (the start of this run):
// a capture that arrived while nothing ran (written by another machine to
// the share) is never uploaded. With this change its name is then also
// recorded as held, so no later start takes it either.
func TestReview6FolderAppearingAfterStartGetsNoCatchUp(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	dir := filepath.Join(f.dir, "share")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ac := AutoConfig{Folders: []WatchFolder{{Path: dir}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, ac)() // run 1: the folder is known

	// Run 1 ended an hour ago (its mark), and a capture arrived 30 minutes
	// ago, while nothing ran.
	hourAgo, _ := time.Now().Add(-time.Hour).UTC().MarshalText()
	if err := e.st.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMarks).Put([]byte(dir), hourAgo) }); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "while-off.png")
	if err := os.WriteFile(shot, []byte("a capture made while nothing ran"), 0o644); err != nil {
		t.Fatal(err)
	}
	halfHour := time.Now().Add(-30 * time.Minute)
	if err := os.Chtimes(shot, halfHour, halfHour); err != nil {
		t.Fatal(err)
	}
	// The share is not mounted yet when run 2 starts.
	away := dir + ".unmounted"
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	r := recordEvents(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Watch(ctx, ac) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	testutil.WaitFor(t, 10*time.Second, "the missing folder to be waited for", func() bool {
		st := e.WatcherStatus()
		return len(st) == 1 && st[0].State == FolderWaiting
	})
	if err := os.Rename(away, dir); err != nil { // mounted
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the folder to be watched", func() bool {
		st := e.WatcherStatus()
		return len(st) == 1 && st[0].State == FolderWatching
	})
	if !uploadedBeforeNext(t, e, r, filepath.Join(dir, "new-shot.png"), shot) {
		t.Errorf("%s arrived while nothing ran (after the folder's mark) but was never uploaded: the folder was mounted "+
			"just after the start, and a folder that appears is only scanned for files changed since it went missing", shot)
	}
}

// A subfolder that cannot be read when the folder starts being watched
// (another user's, or locked) is left out of the recorded set as if it were
// empty. Once it is readable again (chmod -R, which moves every file's
// ctime), its old pictures count as "arrived" and go up. Root runs it as
// user nobody (root reads everything).
func TestReview6UnreadableSubfolderAtStartUploadsItsOldPictures(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t)
		return
	}
	f := newFixture(t, ziplinetest.RoleAdmin)
	old := review6Locked(t, f.dir)
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir, Recursive: true}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, ac)() // run 1

	waitChangeTimeAfter(t, time.Now())
	review6Unlock(t, old) // while nothing runs

	r := recordEvents(t, e)
	watching(t, e, ac)
	if uploadedBeforeNext(t, e, r, filepath.Join(f.dir, "new-shot.png"), old) {
		t.Errorf("%s (old, in the folder before it was ever watched) was uploaded after its subfolder became readable: "+
			"a walk with errors is recorded as the complete set", old)
	}
}

// Pre-existing: a watched folder that is a symlink (~/Pictures -> /data/
// pictures) is never walked (filepath.WalkDir does not follow the root):
// no catch-up, and with subfolders on, no subfolder is watched.
func TestReview6SymlinkedFolderCatchUp(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	link := filepath.Join(t.TempDir(), "Pictures")
	if err := os.Symlink(f.dir, link); err != nil {
		t.Fatal(err)
	}
	ac := AutoConfig{Folders: []WatchFolder{{Path: link}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, ac)() // run 1: the folder is known

	shot := filepath.Join(link, "while-off.png") // written while nothing runs
	if err := os.WriteFile(shot, []byte("a capture made while nothing ran"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Minute) // after the mark, whatever the clock's grain
	if err := os.Chtimes(shot, future, future); err != nil {
		t.Fatal(err)
	}
	r := recordEvents(t, e)
	watching(t, e, ac)
	if !uploadedBeforeNext(t, e, r, filepath.Join(link, "new-shot.png"), shot) {
		t.Errorf("%s arrived while nothing ran in a watched folder reached through a symlink and was not caught up", shot)
	}
}

// Judgment call: an old picture renamed inside the folder while nothing
// runs (a photo manager's "rename by date", exiftool '-FileName<...') gets
// a name the folder did not hold and a new ctime, so it is uploaded, though
// it was already in the folder. (The running watcher uploads such a rename
// too.) Its inode was in the folder: recording inode numbers with the
// names would tell a rename from a file moved in.
func TestReview6RenamedOldPictureUploaded(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	old := review6Old(t, filepath.Join(f.dir, "IMG_0001.png"))
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, ac)() // run 1

	waitChangeTimeAfter(t, time.Now())
	renamed := filepath.Join(f.dir, "2023-06-01 beach.png")
	if err := os.Rename(old, renamed); err != nil { // while nothing runs
		t.Fatal(err)
	}
	r := recordEvents(t, e)
	watching(t, e, ac)
	if uploadedBeforeNext(t, e, r, filepath.Join(f.dir, "new-shot.png"), renamed) {
		t.Errorf("%s, an old picture the folder held, renamed while nothing ran, was uploaded by the catch-up", renamed)
	}
}

// The same without any settings change: a one-off `zipline-tray watch
// ~/Pictures` (never recursive) between two runs of the app, which watches
// ~/Pictures with its subfolders, overwrites the recorded set with the top
// level alone.
func TestReview6OneOffWatchOverwritesRecursiveSet(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	deep := review6Old(t, filepath.Join(f.dir, "2019-holiday", "beach.png"))
	app := AutoConfig{Folders: []WatchFolder{{Path: f.dir, Recursive: true}}, CatchUp: true}
	e := f.open(t, f.config())
	watching(t, e, app)() // the app
	// zipline-tray watch DIR
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true, OneOff: true})()

	waitChangeTimeAfter(t, time.Now())
	review6Backup(t, deep) // while nothing runs

	r := recordEvents(t, e)
	watching(t, e, app) // the app again, same settings
	if uploadedBeforeNext(t, e, r, filepath.Join(f.dir, "new-shot.png"), deep) {
		t.Errorf("%s (old, held by the folder since before it was first watched, only hard-linked) was uploaded: "+
			"a one-off non-recursive watch of the same folder recorded only its top level", deep)
	}
}

// runAsNobody runs the calling test again in a child process as user
// nobody, for a test about permissions that root would bypass.
func runAsNobody(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("setpriv"); err != nil || runtime.GOOS != "linux" {
		t.Skip("needs setpriv to run as another user")
	}
	// The child's own folder and a copy of the test binary, both nobody's:
	// go test's build and temporary folders are root's alone.
	home, err := os.MkdirTemp("", "nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	bin := filepath.Join(home, "uploader.test")
	data, err := os.ReadFile(os.Args[0])
	if err == nil {
		err = os.WriteFile(bin, data, 0o755)
	}
	if err == nil {
		err = os.Chown(home, 65534, 65534)
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin,
		"-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "HOME="+home, "TMPDIR="+home, "XDG_CACHE_HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("as user nobody: %v\n%s", err, out)
	}
}
