package uploader

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// Read-ahead bytes handed to the queue are given back whatever becomes of
// them: kept for an item and used, merged with a later version of the same
// path, coalesced into a waiting item, or refused (no such file).
func TestReadAheadGivenBack(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.SetDelay("/api/upload", 300*time.Millisecond) // the first items wait
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	mk := func() *prefetched {
		if !e.preBudget.take(10) {
			t.Fatal("budget refused 10 bytes")
		}
		return &prefetched{data: make([]byte, 10), b: &e.preBudget}
	}
	a, _ := f.write(t, "a.png", 100)
	b, _ := f.write(t, "b.png", 100)
	c, _ := f.write(t, "c.png", 100)
	d, _ := f.write(t, "d.png", 100)
	e.addMany([]addReq{{path: a, o: statOpts(t, a), pre: mk()}, {path: b, o: statOpts(t, b), pre: mk()}})
	reqs := []addReq{
		{path: c, o: statOpts(t, c), pre: mk()},
		{path: c, o: statOpts(t, c), pre: mk()}, // the same path twice in one batch
		{path: d, o: statOpts(t, d), pre: mk()},
		{path: filepath.Join(f.dir, "gone.png"), pre: mk()}, // no such file
	}
	e.addMany(reqs)
	// d again while it waits: coalesced, its bytes not kept.
	e.addMany([]addReq{{path: d, o: statOpts(t, d), pre: mk()}})
	// Only the waiting items hold bytes, once the two uploads under way
	// have taken theirs.
	testutil.WaitFor(t, 10*time.Second, "only the waiting items to hold read-ahead bytes", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.preBudget.used.Load() == int64(10*len(e.pre))
	})
	f.srv.SetDelay("/api/upload", 0)
	r.wait(t, 20*time.Second, "four uploads", func(evs []Event) bool { return len(uploadedPaths(evs)) == 4 })
	if u := e.preBudget.used.Load(); u != 0 {
		t.Errorf("%d read-ahead bytes still held after every upload, want 0", u)
	}
}

// Any event for a path after its bytes were read ahead makes them stale,
// whatever the clocks say (a clock set back can make a rewrite keep every
// timestamp); so does a watcher error (events may be lost) and a change of
// folders. Stale bytes are never used.
func TestReadAheadStaleOnEvent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "shot.png")
	if err := os.WriteFile(p, []byte("shot"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &watchRun{ahead: map[string]*prefetched{}, w: &Watcher{log: slog.New(slog.DiscardHandler)}, maint: time.NewTimer(time.Hour)}
	defer r.maint.Stop()
	a, b, c := &prefetched{}, &prefetched{}, &prefetched{}
	r.ahead[p], r.ahead["/other.png"] = a, b
	r.event(fsnotify.Event{Name: p, Op: fsnotify.Chmod})
	if !a.stale.Load() || b.stale.Load() {
		t.Errorf("after an event for %s: stale %v, other %v; want true, false", p, a.stale.Load(), b.stale.Load())
	}
	if _, _, ok := a.current(p); ok {
		t.Error("stale bytes were used")
	}
	r.ahead[p] = c
	r.watchErr(fsnotify.ErrEventOverflow)
	if !b.stale.Load() || !c.stale.Load() || len(r.ahead) != 0 {
		t.Errorf("after an overflow: stale %v, %v, %d held; want all stale", b.stale.Load(), c.stale.Load(), len(r.ahead))
	}
}

// Bytes given back are dropped at once: the watcher keeps its record of
// them (for staleness) a while, and must not keep the bytes too (it kept
// ~120 MiB for a budget of 16: found by review).
func TestReadAheadReleaseDropsBytes(t *testing.T) {
	var b prefetchBudget
	if !b.take(1000) {
		t.Fatal("budget refused 1000 bytes")
	}
	p := &prefetched{data: make([]byte, 1000), b: &b}
	p.release()
	if p.data != nil || b.used.Load() != 0 {
		t.Errorf("after release: %d bytes kept, budget used %d; want none", len(p.data), b.used.Load())
	}
}
