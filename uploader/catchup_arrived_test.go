package uploader

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
	bolt "go.etcd.io/bbolt"
)

// waitChangeTimeAfter waits until a file changed now gets a change time
// after t: inode times come from a coarse clock.
func waitChangeTimeAfter(t *testing.T, after time.Time) {
	t.Helper()
	probe := filepath.Join(t.TempDir(), "probe")
	testutil.WaitFor(t, 5*time.Second, "the file system clock to pass "+after.Format(time.StampMicro), func() bool {
		if err := os.WriteFile(probe, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(probe)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := changeTime(fi)
		if !ok {
			t.Skip("no inode change time on this system")
		}
		return c.After(after)
	})
}

// Files that arrive while nothing runs keep their old mtime when they are
// moved in (mv, a screenshot tool's temp folder, Syncthing) or copied with
// their times (cp -a, rsync -t): the catch-up takes them all the same, as
// the watcher would have while running. Old pictures the folder already held
// stay where they are, though their inode changed (chmod) or they were
// restored from a backup under the same names (new inodes).
func TestCatchUpTakesFilesArrivedWithOldMtime(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir, Recursive: true}}, CatchUp: true}
	years := time.Now().AddDate(-3, 0, 0)
	write := func(p string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("picture "+p), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, years, years); err != nil {
			t.Fatal(err)
		}
		return p
	}
	chmodded := write(filepath.Join(f.dir, "chmodded.png"))
	restored := write(filepath.Join(f.dir, "restored.png"))
	deep := write(filepath.Join(f.dir, "2023-11", "deep.png"))

	e1, err := Open(f.config())
	if err != nil {
		t.Fatal(err)
	}
	stop := watching(t, e1, ac)
	stop()
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	waitChangeTimeAfter(t, time.Now())

	// While nothing runs.
	elsewhere := t.TempDir()
	moved := filepath.Join(f.dir, "moved.png")
	if err := os.Rename(write(filepath.Join(elsewhere, "moved.png")), moved); err != nil {
		t.Fatal(err)
	}
	movedDeep := filepath.Join(f.dir, "2023-11", "moved-deep.png")
	if err := os.Rename(write(filepath.Join(elsewhere, "moved-deep.png")), movedDeep); err != nil {
		t.Fatal(err)
	}
	copied := write(filepath.Join(f.dir, "copied.png"))
	for _, p := range []string{chmodded, deep} {
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(restored); err != nil {
		t.Fatal(err)
	}
	write(restored)

	e2 := f.open(t, f.config())
	r := recordEvents(t, e2)
	watching(t, e2, ac)
	got := uploadsBeforeNext(t, e2, r, filepath.Join(f.dir, "new-shot.png"))
	for _, p := range []string{moved, movedDeep, copied} {
		if got[p] != 1 {
			t.Errorf("%s arrived while nothing ran with an old mtime: uploaded %d times, want 1", p, got[p])
		}
	}
	for _, p := range []string{chmodded, deep, restored} {
		if got[p] != 0 {
			t.Errorf("%s was in the folder before it was watched: uploaded %d times, want 0", p, got[p])
		}
	}
}

// Without a record of what a folder held (a queue from an older version)
// the catch-up goes by mtime alone: nothing old goes up.
func TestCatchUpWithoutRecordByMtime(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true}
	e1, err := Open(f.config())
	if err != nil {
		t.Fatal(err)
	}
	stop := watching(t, e1, ac)
	stop()
	if h, err := e1.st.held(f.dir); err != nil || h == nil {
		t.Fatalf("what the folder held was not recorded: %v, %v", h, err)
	}
	if err := e1.st.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketHeld).Delete([]byte(f.dir)) }); err != nil {
		t.Fatal(err)
	}
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	waitChangeTimeAfter(t, time.Now())
	years := time.Now().AddDate(-3, 0, 0)
	old := filepath.Join(f.dir, "old.png")
	if err := os.WriteFile(old, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(old, years, years); err != nil {
		t.Fatal(err)
	}

	e2 := f.open(t, f.config())
	r := recordEvents(t, e2)
	watching(t, e2, ac)
	if n := uploadsBeforeNext(t, e2, r, filepath.Join(f.dir, "new-shot.png"))[old]; n != 0 {
		t.Errorf("with no record of the folder, an old-mtime file was uploaded %d times", n)
	}
	if h, _ := e2.st.held(f.dir); h == nil {
		t.Error("the second start did not record what the folder holds")
	}
}

func TestHeldRoundTrip(t *testing.T) {
	st, err := openStore(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if h, err := st.held("/a"); h != nil || err != nil {
		t.Fatalf("nothing recorded: got %v, %v", h, err)
	}
	for _, want := range []*heldFiles{
		{include: []string{}, names: []uint64{}, inos: []uint64{}},
		{recursive: true, include: []string{"png", "mp4"}, names: []uint64{1, 5, 1 << 63}, inos: []uint64{7}},
	} {
		if err := st.setHeld("/a", want); err != nil {
			t.Fatal(err)
		}
		got, err := st.held("/a")
		if err != nil || got == nil || !reflect.DeepEqual(*got, *want) {
			t.Fatalf("saved %+v, read %+v, %v", want, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {9, 0}, {heldFormat, 0, 5}, {heldFormat, 0, 0, 1, 1, 2}} {
		var h heldFiles
		if h.UnmarshalBinary(bad) == nil {
			t.Errorf("%v read as %+v", bad, h)
		}
	}
}
