package uploader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// wtRec records what a watcher reports.
type wtRec struct {
	mu  sync.Mutex
	got []Detected
	n   map[string]int
}

func (r *wtRec) ready(d Detected) {
	r.mu.Lock()
	r.got = append(r.got, d)
	r.n[d.Path]++
	r.mu.Unlock()
}

func (r *wtRec) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[path]
}

func (r *wtRec) all() []Detected {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Detected(nil), r.got...)
}

func (r *wtRec) of(path string) []Detected {
	var out []Detected
	for _, d := range r.all() {
		if d.Path == path {
			out = append(out, d)
		}
	}
	return out
}

// wtWait polls cond until it holds or d passes.
func wtWait(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		<-tick.C
	}
}

type wtOpt func(*Watcher)

// wtStart runs a watcher on folders until the test ends, and waits until
// every folder has a state.
func wtStart(t testing.TB, cfg WatcherConfig, opts ...wtOpt) (*Watcher, *wtRec) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	w, err := NewWatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(w)
	}
	rec := &wtRec{n: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, rec.ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	wtWait(t, 5*time.Second, "watcher to start", func() bool {
		for _, s := range w.Status() {
			if s.State == "" {
				return false
			}
		}
		return true
	})
	return w, rec
}

// tWriter sends log lines to t.Log while the test runs.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	if !testing.Verbose() {
		return len(p), nil
	}
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func wtWrite(t testing.TB, path string, size int) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Repeat([]byte{'x'}, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wtSentinel writes a file and waits for its report: every event before it
// has then been through the gate, so a report that has not come by now is
// not merely late.
func wtSentinel(t testing.TB, rec *wtRec, dir string) {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("sentinel-%d.png", time.Now().UnixNano()))
	wtWrite(t, p, 10)
	wtWait(t, 5*time.Second, "sentinel "+p, func() bool { return rec.count(p) > 0 })
}

func TestWatchSlowWriteReportedOnceComplete(t *testing.T) {
	dir := t.TempDir()
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	p := filepath.Join(dir, "recording.mp4")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	// Chunks over 2 s. Where the watcher can see that a file is still open
	// for writing, the pauses (250 ms) are longer than the quiet time plus
	// settle time, so only that check keeps the file from being reported
	// early; elsewhere (macOS) the pauses stay within the quiet time.
	chunks, pause := 8, 250*time.Millisecond
	if !writersDetected {
		chunks, pause = 40, 50*time.Millisecond
	}
	chunk := bytes.Repeat([]byte{'v'}, 64<<10)
	tick := time.NewTicker(pause)
	for i := 0; i < chunks; i++ {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
		<-tick.C
	}
	tick.Stop()
	if n := rec.count(p); n != 0 {
		t.Fatalf("reported %d times while still open for writing: %+v", n, rec.of(p))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := int64(chunks * len(chunk))
	wtWait(t, 10*time.Second, "the recording", func() bool { return rec.count(p) > 0 })
	wtSentinel(t, rec, dir)
	got := rec.of(p)
	if len(got) != 1 || got[0].Size != want || got[0].Folder != dir {
		t.Fatalf("reports %+v, want one of size %d in %s", got, want, dir)
	}
}

func TestWatchTempRenamedIn(t *testing.T) {
	dir := t.TempDir()
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	for _, c := range []struct{ tmp, final string }{
		{".shot.png.tmp", "shot.png"},             // hidden temp (hyprshot, Syncthing style)
		{".Screenshot 2.png", "Screenshot 2.png"}, // macOS screencapture
		{"photo.jpg.part", "photo.jpg"},           // Firefox
		{"clip.mp4.crdownload", "clip.mp4"},       // Chrome
		{"~$lock.png", "unlocked.png"},
	} {
		final := filepath.Join(dir, c.final)
		tp := filepath.Join(dir, c.tmp)
		wtWrite(t, tp, 4096)
		if err := os.Rename(tp, final); err != nil {
			t.Fatal(err)
		}
		wtWait(t, 5*time.Second, final, func() bool { return rec.count(final) > 0 })
	}
	wtSentinel(t, rec, dir)
	for _, d := range rec.all() {
		if Ignored(d.Path) {
			t.Errorf("temporary name reported: %s", d.Path)
		}
		if n := rec.count(d.Path); n != 1 {
			t.Errorf("%s reported %d times", d.Path, n)
		}
	}
}

func TestWatchMovedInFromElsewhere(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	src := filepath.Join(other, "moved.jpg")
	wtWrite(t, src, 5000)
	dst := filepath.Join(dir, "moved.jpg")
	if err := os.Rename(src, dst); err != nil {
		t.Fatal(err)
	}
	wtWait(t, 5*time.Second, "moved file", func() bool { return rec.count(dst) > 0 })
	if got := rec.of(dst); got[0].Size != 5000 {
		t.Fatalf("got %+v", got)
	}
	if rec.count(src) != 0 {
		t.Fatal("source path reported")
	}
}

// A file renamed in complete (how GNOME, macOS and Spectacle save) is
// reported without the gate's quiet time: with an hour of debounce, only
// that path can report it.
func TestWatchMovedInSkipsTheWait(t *testing.T) {
	if !writersDetected {
		t.Skip("no writer check here: every file waits the gate")
	}
	dir, other := t.TempDir(), t.TempDir()
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}, Debounce: time.Hour})
	src := filepath.Join(other, "moved.png")
	wtWrite(t, src, 3000)
	moved := filepath.Join(dir, "moved.png")
	if err := os.Rename(src, moved); err != nil {
		t.Fatal(err)
	}
	tmp, renamed := filepath.Join(dir, ".goutputstream-X1Y2Z3"), filepath.Join(dir, "Screenshot.png")
	wtWrite(t, tmp, 4000)
	if err := os.Rename(tmp, renamed); err != nil {
		t.Fatal(err)
	}
	wtWait(t, 5*time.Second, "both files", func() bool { return rec.count(moved) > 0 && rec.count(renamed) > 0 })
	if got := rec.of(moved); len(got) != 1 || got[0].Size != 3000 || got[0].Folder != dir {
		t.Errorf("moved file: %+v", got)
	}
	if got := rec.of(renamed); len(got) != 1 || got[0].Size != 4000 {
		t.Errorf("renamed file: %+v", got)
	}
}

// A file renamed in while a program still has it open for writing is not
// complete: it waits until it is closed, and is reported once, whole.
func TestWatchMovedInStillOpenWaits(t *testing.T) {
	if !writersDetected {
		t.Skip("no writer check here")
	}
	dir, other := t.TempDir(), t.TempDir()
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	src := filepath.Join(other, "rec.mp4")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{'r'}, 10_000)
	if _, err := f.Write(chunk); err != nil {
		t.Fatal(err)
	}
	p := movedInNotReported(t, rec, src, dir, other)
	if _, err := f.Write(chunk); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wtWait(t, 10*time.Second, "the closed file", func() bool { return rec.count(p) > 0 })
	wtSentinel(t, rec, dir)
	if got := rec.of(p); len(got) != 1 || got[0].Size != 20_000 {
		t.Fatalf("reports %+v, want one of 20000 bytes", got)
	}
}

// movedInNotReported renames src (still open for writing) into dir, then a
// sentinel from other, which is reported at once: src has been through the
// same check by then, and must not have been reported. It returns src's
// new path.
func movedInNotReported(t *testing.T, rec *wtRec, src, dir, other string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.Base(src))
	if err := os.Rename(src, p); err != nil {
		t.Fatal(err)
	}
	s := filepath.Join(other, "sentinel.png")
	wtWrite(t, s, 10)
	sp := filepath.Join(dir, "sentinel.png")
	if err := os.Rename(s, sp); err != nil {
		t.Fatal(err)
	}
	wtWait(t, 5*time.Second, "the sentinel", func() bool { return rec.count(sp) > 0 })
	if n := rec.count(p); n != 0 {
		t.Fatalf("reported %d times while still open for writing: %+v", n, rec.of(p))
	}
	return p
}

func TestWatchBurst(t *testing.T) {
	dir := t.TempDir()
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	const n = 500
	for i := 0; i < n; i++ {
		wtWrite(t, filepath.Join(dir, fmt.Sprintf("burst-%03d.png", i)), 100+i)
	}
	wtWait(t, 30*time.Second, "500 files", func() bool { return len(rec.all()) >= n })
	wtSentinel(t, rec, dir)
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("burst-%03d.png", i))
		if c := rec.count(p); c != 1 {
			t.Errorf("%s reported %d times", p, c)
		}
	}
	for _, d := range rec.of(filepath.Join(dir, "burst-499.png")) {
		if d.Size != 599 {
			t.Errorf("size %d", d.Size)
		}
	}
}

func TestWatchRecursiveNewSubfolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "2025-01"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir, Recursive: true}}})
	var want []string
	// An existing subfolder is watched from the start.
	p := filepath.Join(dir, "2025-01", "a.png")
	wtWrite(t, p, 10)
	want = append(want, p)
	// New folders (nested, made in one go) with files written right after
	// mkdir, before the watcher can have added them.
	for i := 0; i < 5; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("2025-%02d", i+2), "deep")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 10; j++ {
			for _, d := range []string{sub, filepath.Dir(sub)} {
				p := filepath.Join(d, fmt.Sprintf("f%d.png", j))
				wtWrite(t, p, 10+j)
				want = append(want, p)
			}
		}
	}
	// A hidden subfolder is not watched.
	hidden := filepath.Join(dir, ".thumbnails")
	if err := os.Mkdir(hidden, 0o755); err != nil {
		t.Fatal(err)
	}
	wtWrite(t, filepath.Join(hidden, "t.png"), 10)
	wtWait(t, 10*time.Second, "all files in new subfolders", func() bool {
		for _, p := range want {
			if rec.count(p) == 0 {
				return false
			}
		}
		return true
	})
	wtSentinel(t, rec, dir)
	for _, p := range want {
		if c := rec.count(p); c != 1 {
			t.Errorf("%s reported %d times", p, c)
		}
	}
	if c := rec.count(filepath.Join(hidden, "t.png")); c != 0 {
		t.Error("file in hidden subfolder reported")
	}
	for _, d := range rec.all() {
		if d.Folder != dir {
			t.Errorf("%s: folder %s", d.Path, d.Folder)
		}
	}
}

func TestWatchNonRecursiveIgnoresSubfolders(t *testing.T) {
	dir := t.TempDir()
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	wtWrite(t, filepath.Join(sub, "x.png"), 10)
	wtSentinel(t, rec, dir)
	if c := rec.count(filepath.Join(sub, "x.png")); c != 0 {
		t.Fatal("file in subfolder of a non-recursive folder reported")
	}
}

func TestWatchMissingFolderAppears(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "Pictures", "Screenshots")
	w, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: target}}})
	st := w.Status()
	if len(st) != 1 || st[0].State != FolderWaiting || st[0].Path != target {
		t.Fatalf("status %+v", st)
	}
	// A file in the watched parent is not ours.
	wtWrite(t, filepath.Join(base, "stray.png"), 10)
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(target, "first.png")
	wtWrite(t, first, 123) // likely before the watcher added the folder
	wtWait(t, 5*time.Second, "folder to be watched", func() bool {
		st := w.Status()
		return st[0].State == FolderWatching
	})
	later := filepath.Join(target, "later.png")
	wtWrite(t, later, 456)
	wtWait(t, 5*time.Second, "files in the new folder", func() bool {
		return rec.count(first) == 1 && rec.count(later) == 1
	})
	wtSentinel(t, rec, target)
	if c := rec.count(filepath.Join(base, "stray.png")); c != 0 {
		t.Error("file in the parent reported")
	}
	if c := rec.count(first); c != 1 {
		t.Errorf("first reported %d times", c)
	}

	// Removing the folder sends it back to waiting; re-creating it works.
	if err := os.RemoveAll(filepath.Join(base, "Pictures")); err != nil {
		t.Fatal(err)
	}
	wtWait(t, 5*time.Second, "waiting again", func() bool { return w.Status()[0].State == FolderWaiting })
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(target, "again.png")
	wtWrite(t, again, 7)
	wtWait(t, 5*time.Second, "file in re-created folder", func() bool { return rec.count(again) == 1 })
}

func TestWatchFolderIsAFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notadir")
	wtWrite(t, p, 1)
	w, _ := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: p}}})
	st := w.Status()
	if st[0].State != FolderError || !strings.Contains(st[0].Err, "not a folder") {
		t.Fatalf("status %+v", st)
	}
}

func TestWatchNewVersionReportedAgain(t *testing.T) {
	dir := t.TempDir()
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	p := filepath.Join(dir, "edit.png")
	wtWrite(t, p, 100)
	wtWait(t, 5*time.Second, "first version", func() bool { return rec.count(p) == 1 })
	wtWrite(t, p, 200)
	wtWait(t, 5*time.Second, "second version", func() bool { return rec.count(p) == 2 })
	// Touching attributes alone is not a new version.
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	wtSentinel(t, rec, dir)
	got := rec.of(p)
	if len(got) != 2 || got[0].Size != 100 || got[1].Size != 200 {
		t.Fatalf("reports %+v", got)
	}
}

func TestWatchFilters(t *testing.T) {
	dir := t.TempDir()
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}, Include: []string{"PNG", ".jpg"}})
	for _, n := range []string{"a.PNG", "b.jpg", "c.txt", "d.gif", "~$e.png", ".f.png", "g.png.swp", "empty.png"} {
		size := 10
		if n == "empty.png" {
			size = 0
		}
		wtWrite(t, filepath.Join(dir, n), size)
	}
	wtSentinel(t, rec, dir)
	var got []string
	for _, d := range rec.all() {
		if !strings.HasPrefix(filepath.Base(d.Path), "sentinel-") {
			got = append(got, filepath.Base(d.Path))
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "a.PNG,b.jpg" {
		t.Fatalf("reported %v, want a.PNG and b.jpg", got)
	}
}

func TestWatchVanishedBeforeSettling(t *testing.T) {
	dir := t.TempDir()
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	p := filepath.Join(dir, "gone.png")
	wtWrite(t, p, 10)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	wtSentinel(t, rec, dir)
	if rec.count(p) != 0 {
		t.Fatal("vanished file reported")
	}
}

// wtStartLossy watches f, losing the events of the file names stored in
// drop; fw is the fsnotify watcher, to send it errors.
func wtStartLossy(t *testing.T, f WatchFolder) (fw *fsnotify.Watcher, drop *sync.Map, rec *wtRec) {
	drop = new(sync.Map)
	_, rec = wtStart(t, WatcherConfig{Folders: []WatchFolder{f}},
		func(w *Watcher) {
			w.testFS = func(f *fsnotify.Watcher) { fw = f }
			w.testDrop = func(ev fsnotify.Event) bool { _, ok := drop.Load(filepath.Base(ev.Name)); return ok }
		})
	return fw, drop, rec
}

// wtOverflow loses the events of a new file in dir, then overflows the
// watcher, and waits until the rescan has found that file.
func wtOverflow(t *testing.T, fw *fsnotify.Watcher, drop *sync.Map, rec *wtRec, dir string) {
	t.Helper()
	lost := filepath.Join(dir, "lost.png")
	drop.Store("lost.png", true)
	wtWrite(t, lost, 77)
	fw.Errors <- fsnotify.ErrEventOverflow
	wtWait(t, 5*time.Second, "the rescan to find the lost file", func() bool { return rec.count(lost) == 1 })
	wtSentinel(t, rec, dir)
}

func TestWatchOverflowRescans(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.png")
	wtWrite(t, old, 10)
	// Make the old file look old: a rescan only looks at what changed
	// since the folder started being watched.
	ago := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, ago, ago); err != nil {
		t.Fatal(err)
	}
	fw, drop, rec := wtStartLossy(t, WatchFolder{Path: dir})
	lost := filepath.Join(dir, "lost.png")
	drop.Store("lost.png", true)
	wtWrite(t, lost, 77)
	wtSentinel(t, rec, dir)
	if rec.count(lost) != 0 {
		t.Fatal("dropped events still reported the file")
	}
	fw.Errors <- fsnotify.ErrEventOverflow
	wtWait(t, 5*time.Second, "rescan to find the lost file", func() bool { return rec.count(lost) == 1 })
	// Any watcher error rescans too, and does not report the same version
	// again.
	lost2 := filepath.Join(dir, "lost2.png")
	drop.Store("lost2.png", true)
	wtWrite(t, lost2, 78)
	fw.Errors <- errors.New("some watcher error")
	wtWait(t, 5*time.Second, "second rescan", func() bool { return rec.count(lost2) == 1 })
	wtSentinel(t, rec, dir)
	if c := rec.count(lost); c != 1 {
		t.Errorf("lost file reported %d times", c)
	}
}

func TestWatchSetFoldersLive(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	w, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: a}}})
	if err := w.SetFolders([]WatchFolder{{Path: b}}); err != nil {
		t.Fatal(err)
	}
	wtWait(t, 5*time.Second, "folder b watched", func() bool {
		st := w.Status()
		return len(st) == 1 && st[0].Path == b && st[0].State == FolderWatching
	})
	wtWrite(t, filepath.Join(a, "in-a.png"), 10)
	wtSentinel(t, rec, b)
	if rec.count(filepath.Join(a, "in-a.png")) != 0 {
		t.Fatal("removed folder still reported")
	}
}

func TestWatchCatchUp(t *testing.T) {
	dir := t.TempDir()
	oldP, newP := filepath.Join(dir, "old.png"), filepath.Join(dir, "new.png")
	wtWrite(t, oldP, 10)
	wtWrite(t, newP, 10)
	mark := time.Now().Add(-time.Hour)
	ago := mark.Add(-time.Hour)
	if err := os.Chtimes(oldP, ago, ago); err != nil {
		t.Fatal(err)
	}
	var asked []string
	var mu sync.Mutex
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}, CatchUp: func(f string) (time.Time, bool) {
		mu.Lock()
		asked = append(asked, f)
		mu.Unlock()
		return mark, true
	}})
	wtWait(t, 5*time.Second, "caught-up file", func() bool { return rec.count(newP) == 1 })
	wtSentinel(t, rec, dir)
	if rec.count(oldP) != 0 {
		t.Error("file older than the mark reported")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 1 || asked[0] != dir {
		t.Errorf("CatchUp asked for %v", asked)
	}
}

func TestScanFolder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.png", "b.txt", ".c.png", "sub/d.png", ".hid/e.png", "f.png.part"} {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		wtWrite(t, p, 5)
	}
	ago := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "a.png"), ago, ago)
	names := func(ds []Detected) string {
		var s []string
		for _, d := range ds {
			r, _ := filepath.Rel(dir, d.Path)
			s = append(s, filepath.ToSlash(r))
		}
		sort.Strings(s)
		return strings.Join(s, ",")
	}
	got, err := ScanFolder(WatchFolder{Path: dir}, nil, time.Time{})
	if err != nil || names(got) != "a.png" {
		t.Errorf("flat: %v %v", names(got), err)
	}
	got, err = ScanFolder(WatchFolder{Path: dir, Recursive: true}, nil, time.Time{})
	if err != nil || names(got) != "a.png,sub/d.png" {
		t.Errorf("recursive: %v %v", names(got), err)
	}
	if got[0].Path != filepath.Join(dir, "a.png") {
		t.Errorf("not oldest first: %+v", got)
	}
	got, err = ScanFolder(WatchFolder{Path: dir, Recursive: true}, nil, ago.Add(time.Minute))
	if err != nil || names(got) != "sub/d.png" {
		t.Errorf("since: %v %v", names(got), err)
	}
	_, err = ScanFolder(WatchFolder{Path: filepath.Join(dir, "missing")}, nil, time.Time{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing folder: %v", err)
	}
}

func TestWatchReadyIsSerialAndSlowCallbackLosesNothing(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWatcher(WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	inFlight, maxInFlight := 0, 0
	seen := map[string]int{}
	release := make(chan struct{})
	ready := func(d Detected) {
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		seen[d.Path]++
		first := len(seen) == 1
		mu.Unlock()
		if first {
			<-release // block the callback while the rest of the burst settles
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, ready) }()
	wtWait(t, 5*time.Second, "watching", func() bool { return w.Status()[0].State == FolderWatching })
	const n = 100
	for i := 0; i < n; i++ {
		wtWrite(t, filepath.Join(dir, fmt.Sprintf("s%03d.png", i)), 10)
	}
	wtWait(t, 5*time.Second, "first callback", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 1
	})
	// The watcher keeps working while the callback blocks: a later write
	// and its events are still taken in (the outbox holds the results).
	wtWrite(t, filepath.Join(dir, "while-blocked.png"), 10)
	close(release)
	wtWait(t, 10*time.Second, "all files", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n+1
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if maxInFlight != 1 {
		t.Errorf("ready ran %d at once", maxInFlight)
	}
	for p, c := range seen {
		if c != 1 {
			t.Errorf("%s reported %d times", p, c)
		}
	}
	// Run is over: nothing more is reported.
	if err := w.Run(context.Background(), nil); err == nil {
		t.Error("Run with a nil callback accepted")
	}
}

func TestWatchRunTwice(t *testing.T) {
	w, _ := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: t.TempDir()}}})
	if err := w.Run(context.Background(), func(Detected) {}); err == nil {
		t.Fatal("second concurrent Run accepted")
	}
}

func TestWatchMissingFolderCreatedStepByStep(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "a", "b", "c")
	w, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: target, Recursive: true}}})
	since := w.Status()[0].Since
	if p := w.Status()[0].Parent; p != base {
		t.Fatalf("watching %s for the folder to appear, want %s", p, base)
	}
	for _, d := range []string{"a", "a/b"} {
		dir := filepath.Join(base, d)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// Each step moves the watch down; the folder is still missing.
		wtWait(t, 5*time.Second, "the watch to move to "+dir, func() bool {
			st := w.Status()[0]
			return st.State == FolderWaiting && st.Since.Equal(since) && st.Parent == dir
		})
	}
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(target, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(sub, "x.webp")
	wtWrite(t, p, 10)
	wtWait(t, 5*time.Second, "file in the new folder's subfolder", func() bool { return rec.count(p) == 1 })
	st := w.Status()[0]
	if st.State != FolderWatching || !st.Since.After(since) || st.Parent != "" {
		t.Fatalf("status %+v", st)
	}
}

func TestWatchRecursionToggledLive(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	w, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	p1 := filepath.Join(sub, "one.png")
	wtWrite(t, p1, 10)
	wtSentinel(t, rec, dir)
	if rec.count(p1) != 0 {
		t.Fatal("subfolder watched while not recursive")
	}
	if err := w.SetFolders([]WatchFolder{{Path: dir, Recursive: true}}); err != nil {
		t.Fatal(err)
	}
	wtWait(t, 5*time.Second, "recursive status", func() bool { return w.Status()[0].Recursive })
	p2 := filepath.Join(sub, "two.png")
	wtWrite(t, p2, 10)
	wtWait(t, 5*time.Second, "file in subfolder", func() bool { return rec.count(p2) == 1 })
	if err := w.SetFolders([]WatchFolder{{Path: dir}}); err != nil {
		t.Fatal(err)
	}
	wtWait(t, 5*time.Second, "flat status", func() bool { return !w.Status()[0].Recursive })
	p3 := filepath.Join(sub, "three.png")
	wtWrite(t, p3, 10)
	wtSentinel(t, rec, dir)
	if rec.count(p3) != 0 {
		t.Fatal("subfolder still watched after recursion was turned off")
	}
}

// A folder that appears without an event (a mount, a network share) is
// found by the periodic look at folders that are not watched.
func TestWatchWaitingFolderFoundWithoutEvents(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "mnt", "shots")
	var deaf sync.Map
	w, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: target}}}, func(w *Watcher) {
		w.retry = 50 * time.Millisecond
		w.testDrop = func(fsnotify.Event) bool { _, ok := deaf.Load("on"); return ok }
	})
	deaf.Store("on", true)
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(target, "x.png")
	wtWrite(t, p, 10)
	wtWait(t, 5*time.Second, "the folder to be found", func() bool { return w.Status()[0].State == FolderWatching })
	deaf.Delete("on")
	wtWait(t, 5*time.Second, "the file already in it", func() bool { return rec.count(p) == 1 })
}

// A folder that appears with old files in it (a mounted drive, a restored
// backup) has only the files written since it went missing reported.
func TestWatchAppearingFolderSkipsOldFiles(t *testing.T) {
	base, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(base, "shots")
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: target}}})
	src := filepath.Join(elsewhere, "shots")
	os.Mkdir(src, 0o755)
	wtWrite(t, filepath.Join(src, "old.png"), 10)
	ago := time.Now().Add(-24 * time.Hour)
	if err := os.Chtimes(filepath.Join(src, "old.png"), ago, ago); err != nil {
		t.Fatal(err)
	}
	wtWrite(t, filepath.Join(src, "new.png"), 10)
	if err := os.Rename(src, target); err != nil {
		t.Fatal(err)
	}
	newP, oldP := filepath.Join(target, "new.png"), filepath.Join(target, "old.png")
	wtWait(t, 5*time.Second, "new file", func() bool { return rec.count(newP) == 1 })
	wtSentinel(t, rec, target)
	if rec.count(oldP) != 0 {
		t.Fatal("day-old file reported when its folder appeared")
	}
}

func TestWatchOverlappingFolders(t *testing.T) {
	pics := t.TempDir()
	shots := filepath.Join(pics, "Screenshots")
	os.Mkdir(shots, 0o755)
	_, rec := wtStart(t, WatcherConfig{Folders: []WatchFolder{{Path: pics, Recursive: true}, {Path: shots}, {Path: shots + string(filepath.Separator)}}})
	a, b := filepath.Join(shots, "a.png"), filepath.Join(pics, "b.png")
	wtWrite(t, a, 10)
	wtWrite(t, b, 10)
	wtWait(t, 5*time.Second, "both files", func() bool { return rec.count(a) > 0 && rec.count(b) > 0 })
	wtSentinel(t, rec, pics)
	if rec.count(a) != 1 || rec.of(a)[0].Folder != shots {
		t.Errorf("a: %+v", rec.of(a))
	}
	if rec.count(b) != 1 || rec.of(b)[0].Folder != pics {
		t.Errorf("b: %+v", rec.of(b))
	}
}

func TestWatchConfigErrors(t *testing.T) {
	if _, err := NewWatcher(WatcherConfig{Folders: []WatchFolder{{Path: "  "}}}); err == nil {
		t.Error("empty folder path accepted")
	}
	if _, err := NewWatcher(WatcherConfig{Settle: -time.Second}); err == nil {
		t.Error("negative settle accepted")
	}
	w, err := NewWatcher(WatcherConfig{Folders: []WatchFolder{{Path: "~/x"}, {Path: "rel"}}})
	if err != nil {
		t.Fatal(err)
	}
	home, _ := os.UserHomeDir()
	wd, _ := os.Getwd()
	st := w.Status()
	if len(st) != 2 || st[0].Path != filepath.Join(home, "x") || st[1].Path != filepath.Join(wd, "rel") || st[0].State != "" {
		t.Errorf("status before Run: %+v", st)
	}
}
