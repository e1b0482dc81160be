package uploader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// watching runs e.Watch on f.dir until the test ends (or stop is called).
func watching(t testing.TB, e *Engine, ac AutoConfig) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Watch(ctx, ac) }()
	if !waitWatching(e, 10*time.Second) {
		t.Fatal("the folders are not being watched")
	}
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// A file written slowly over 2 s is uploaded once, with all its bytes.
func TestSlowWriteUploadedOnce(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}})

	p := filepath.Join(f.dir, "slow.png")
	w, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	// 20 writes 100 ms apart: the writer's pace, not a wait for the code
	// under test. (A writer that stops for longer than the watcher's
	// Debounce+Settle between writes is taken as done; raise them for such.)
	chunk := make([]byte, 8<<10)
	tick := time.NewTicker(100 * time.Millisecond)
	for i := range 20 {
		for j := range chunk {
			chunk[j] = byte(i + j)
		}
		w.Write(chunk)
		h.Write(chunk)
		<-tick.C
	}
	tick.Stop()
	w.Close()
	want := hex.EncodeToString(h.Sum(nil))

	r.wait(t, 20*time.Second, "upload of slow.png", func(evs []Event) bool { return uploadedPaths(evs)[p] == 1 })
	files := f.srv.Files()
	if len(files) != 1 {
		t.Fatalf("server has %d files, want 1 (partial uploads?)", len(files))
	}
	if files[0].SHA256 != want || files[0].Size != 20*8<<10 {
		t.Errorf("server got %d bytes sha %s, want %d bytes sha %s", files[0].Size, files[0].SHA256, 20*8<<10, want)
	}
}

// A temp file renamed into place is uploaded under its final name; the
// temp name never is.
func TestTempRenameUploaded(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}})

	tmp := filepath.Join(f.dir, ".Screenshot 2026-01-01.png.part")
	final := filepath.Join(f.dir, "Screenshot 2026-01-01.png")
	if err := os.WriteFile(tmp, []byte("a screenshot that was written under a temp name"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 20*time.Second, "upload of the renamed file", func(evs []Event) bool { return uploadedPaths(evs)[final] == 1 })
	for _, ev := range r.snapshot() {
		if ev.Path == tmp {
			t.Errorf("event for the temp name: %+v", ev)
		}
	}
	if n := len(f.srv.Files()); n != 1 {
		t.Errorf("server has %d files, want 1", n)
	}
}

// 500 files at once: each uploaded exactly once.
func TestBurst500(t *testing.T) {
	if testing.Short() {
		t.Skip("burst")
	}
	f := newFixture(t, ziplinetest.RoleAdmin) // admins are not rate limited
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}})
	const n = 500
	sums := make(map[string]string, n)
	start := time.Now()
	for i := range n {
		p, sum := f.write(t, fmt.Sprintf("b%03d.png", i), 1000+i)
		sums[p] = sum
	}
	r.wait(t, 120*time.Second, "500 uploads", func(evs []Event) bool { return len(uploadedPaths(evs)) == n })
	t.Logf("500 files uploaded %v after the first was written", time.Since(start))
	for p, c := range uploadedPaths(r.snapshot()) {
		if c != 1 {
			t.Errorf("%s uploaded %d times", p, c)
		}
		if _, ok := sums[p]; !ok {
			t.Errorf("unexpected upload %s", p)
		}
	}
	counts := f.serverCounts()
	for p, sum := range sums {
		if counts[sum] != 1 {
			t.Errorf("%s on the server %d times", filepath.Base(p), counts[sum])
		}
	}
	if got := len(f.srv.Files()); got != n {
		t.Errorf("server has %d files, want %d", got, n)
	}
	if u := e.preBudget.used.Load(); u != 0 {
		t.Errorf("%d read-ahead bytes still held after every upload, want 0", u)
	}
	// Subscribers learn of each file in order: queued before started.
	queuedAt := map[ItemID]int{}
	for i, ev := range r.snapshot() {
		switch ev.Type {
		case EventQueued:
			queuedAt[ev.Item] = i
		case EventStarted:
			if _, ok := queuedAt[ev.Item]; !ok {
				t.Errorf("item %d (%s) started before it was queued", ev.Item, filepath.Base(ev.Path))
			}
		}
	}
}

// Files already in a folder when it is first watched are not uploaded;
// files that arrive while nothing runs are caught up on the next start.
func TestFirstAddAndCatchUp(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	old, oldSum := f.write(t, "old.png", 100)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(old, past, past)

	e, err := Open(f.config())
	if err != nil {
		t.Fatal(err)
	}
	r := recordEvents(t, e)
	ac := AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true}
	stop := watching(t, e, ac)
	live, liveSum := f.write(t, "live.png", 100)
	r.wait(t, 20*time.Second, "upload of live.png", func(evs []Event) bool { return uploadedPaths(evs)[live] == 1 })
	stop()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// Nothing runs: a screenshot arrives.
	later, laterSum := f.write(t, "while-away.png", 100)

	e2 := f.open(t, f.config())
	r2 := recordEvents(t, e2)
	watching(t, e2, ac)
	r2.wait(t, 20*time.Second, "catch-up upload", func(evs []Event) bool { return uploadedPaths(evs)[later] == 1 })
	counts := f.serverCounts()
	if counts[oldSum] != 0 {
		t.Error("a file that was in the folder before it was first watched was uploaded")
	}
	if counts[liveSum] != 1 || counts[laterSum] != 1 {
		t.Errorf("live.png ×%d, while-away.png ×%d; want 1 each", counts[liveSum], counts[laterSum])
	}
}

// A folder removed from the settings and added back later starts from now:
// what arrived in it meanwhile is not uploaded. A folder that stayed watched
// catches up.
func TestReaddedFolderStartsFromNow(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	a, b := filepath.Join(f.dir, "a"), filepath.Join(f.dir, "b")
	os.MkdirAll(a, 0o755)
	os.MkdirAll(b, 0o755)
	run := func(folders ...string) (*Engine, *recorder, func()) {
		e, err := Open(f.config())
		if err != nil {
			t.Fatal(err)
		}
		r := recordEvents(t, e)
		var wf []WatchFolder
		for _, p := range folders {
			wf = append(wf, WatchFolder{Path: p})
		}
		stop := watching(t, e, AutoConfig{Folders: wf, CatchUp: true})
		return e, r, func() { stop(); e.Close() }
	}
	_, _, stop := run(a, b) // both new: marks from now
	stop()
	_, _, stop = run(b) // a removed from the settings
	stop()
	away := filepath.Join(a, "while-removed.png")
	os.WriteFile(away, []byte("not for upload"), 0o644)
	caught := filepath.Join(b, "while-off.png")
	os.WriteFile(caught, []byte("catch me up"), 0o644)

	_, r, stop := run(a, b) // a added back
	defer stop()
	live := filepath.Join(a, "live.png")
	os.WriteFile(live, []byte("live"), 0o644)
	r.wait(t, 20*time.Second, "catch-up in b and the live file in a", func(evs []Event) bool {
		up := uploadedPaths(evs)
		return up[caught] == 1 && up[live] == 1
	})
	for _, ev := range r.snapshot() {
		if ev.Path == away {
			t.Errorf("file that arrived while its folder was not in the settings: %s", ev.Type)
		}
	}
}
