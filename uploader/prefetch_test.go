package uploader

import (
	"path/filepath"
	"testing"
	"time"

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
	e.mu.Lock()
	kept := len(e.pre)
	e.mu.Unlock()
	if want := int64(10 * kept); e.preBudget.used.Load() > want {
		t.Errorf("%d bytes held for %d waiting items, want at most %d", e.preBudget.used.Load(), kept, want)
	}
	f.srv.SetDelay("/api/upload", 0)
	r.wait(t, 20*time.Second, "four uploads", func(evs []Event) bool { return len(uploadedPaths(evs)) == 4 })
	if u := e.preBudget.used.Load(); u != 0 {
		t.Errorf("%d read-ahead bytes still held after every upload, want 0", u)
	}
}
