package uploader

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// r3Proxy stands between the engine and the fake server with two gates:
// upload answers (the server has stored the files, the answer waits) and
// file deletions (DELETE /api/user/files/..., held before the server).
type r3Proxy struct {
	mu         sync.Mutex
	upArmed    bool
	upGate     chan struct{}
	upHeld     chan struct{}
	delArmed   bool
	delGate    chan struct{}
	delHeld    chan struct{}
	deletesOut int
	upAborted  chan struct{} // one value per held answer whose client went away
}

func newR3Proxy(t *testing.T, f *fixture) *r3Proxy {
	t.Helper()
	target, err := url.Parse(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := &r3Proxy{upGate: make(chan struct{}), upHeld: make(chan struct{}, 64),
		delGate: make(chan struct{}), delHeld: make(chan struct{}, 64), upAborted: make(chan struct{}, 64)}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	rp.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		if r.Method != http.MethodPost || r.URL.Path != "/api/upload" {
			return nil
		}
		p.mu.Lock()
		armed, gate := p.upArmed, p.upGate
		p.mu.Unlock()
		if !armed {
			return nil
		}
		p.upHeld <- struct{}{}
		select {
		case <-gate:
			return nil
		case <-r.Context().Done():
			p.upAborted <- struct{}{}
			return r.Context().Err()
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/user/files/") {
			p.mu.Lock()
			armed, gate := p.delArmed, p.delGate
			p.deletesOut++
			p.mu.Unlock()
			if armed {
				p.delHeld <- struct{}{}
				select {
				case <-gate:
				case <-r.Context().Done():
					return
				}
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.creds.server = srv.URL
	return p
}

func (p *r3Proxy) armUploads() { p.mu.Lock(); p.upArmed = true; p.mu.Unlock() }
func (p *r3Proxy) armDeletes() { p.mu.Lock(); p.delArmed = true; p.mu.Unlock() }

func (p *r3Proxy) openUploads() {
	p.mu.Lock()
	if p.upArmed {
		p.upArmed = false
		close(p.upGate)
	}
	p.mu.Unlock()
}

func (p *r3Proxy) openDeletes() {
	p.mu.Lock()
	if p.delArmed {
		p.delArmed = false
		close(p.delGate)
	}
	p.mu.Unlock()
}

func waitSignal(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// r3Group queues n files behind a busy worker and lets them go as one
// group whose answer waits at the proxy (the server has stored them all).
func r3Group(t *testing.T, f *fixture, e *Engine, p *r3Proxy, prefix string, n int) ([]string, map[string]string) {
	t.Helper()
	release := occupy(t, f, e)
	paths, sums := queueAll(t, f, e, prefix, n, 1000)
	var once sync.Once
	e.memberHook = func(Item) { once.Do(p.armUploads) }
	release()
	waitSignal(t, p.upHeld, "the group's request")
	counts := f.serverCounts()
	for _, pth := range paths {
		if counts[sums[pth]] != 1 {
			t.Fatalf("%s: on the server %d times before the answer", filepath.Base(pth), counts[sums[pth]])
		}
	}
	return paths, sums
}

// BUG: when every file of a group is cancelled after the group's body was
// sent whole (the server stored them all), sendMany aborts the request
// (group.go: the AfterFunc's `cancelled == len(ctxs)` case) and the
// gctx.Err() branch settles each file through putBack → fail as plainly
// "cancelled by the user". The copies on the server are never deleted and
// nothing says they were kept — unlike a single file of the same group
// cancelled at the same moment (cancelStored deletes it, or says it was
// kept). Cancel returned nil for each.
// Expected: each file ends cancelled and is not left on the server, or its
// reason says the server kept it.
func TestGroupReview3CancelEveryFileAfterBodySent(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	p := newR3Proxy(t, f)
	e, r, _ := hookedWorker(t, f, nil)
	paths, sums := r3Group(t, f, e, p, "ce", 3)
	ids := map[string]ItemID{}
	for _, pth := range paths {
		ids[pth] = itemID(t, e, pth)
		if err := e.Cancel(ids[pth]); err != nil {
			t.Fatalf("cancel %s: %v", filepath.Base(pth), err)
		}
	}
	// Today the engine gives up the request at once; an engine that waits
	// for the answer (to delete the stored files) gets it after 5 s.
	select {
	case <-p.upAborted:
	case <-time.After(5 * time.Second):
	}
	p.openUploads()
	r.wait(t, 30*time.Second, "every file cancelled", func(evs []Event) bool {
		n := 0
		for _, pth := range paths {
			n += eventsFor(evs, pth, EventCancelled)
		}
		return n == len(paths)
	})
	counts := f.serverCounts()
	for _, pth := range paths {
		var reason string
		for _, ev := range r.snapshot() {
			if ev.Path == pth && ev.Type == EventCancelled {
				reason = ev.Reason
			}
		}
		if cur, ok := e.Item(ids[pth]); ok && reason == "" {
			reason = cur.Reason
		}
		if counts[sums[pth]] != 0 && !strings.Contains(reason, "keeps") && !strings.Contains(reason, "kept") {
			t.Errorf("%s: cancelled (Cancel returned nil) with reason %q, but it is still on the server (%d copy)",
				filepath.Base(pth), reason, counts[sums[pth]])
		}
	}
}

// BUG: sendMany settles a group's answer file by file (`each`), and a file
// cancelled after the body was complete is deleted on the server right
// there (cancelStored: a DELETE, up to 30 s) while the files before it
// already have their "uploaded" outcome but are still in e.running until
// finish hands them to the committer. A Cancel of such a file in that
// window finds it running, returns nil ("the worker records it"), and
// nothing looks at its context again: it is announced uploaded, and its
// link recorded. group.go sendMany `case err == nil` (outcomes decided in
// order, a network round trip in between) and engine.go Cancel.
// Expected: Cancel returning nil means the file ends cancelled (or Cancel
// answers that it is already uploaded).
func TestGroupReview3CancelReturnsNilButUploaded(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	p := newR3Proxy(t, f)
	e, r, _ := hookedWorker(t, f, nil)
	paths, _ := r3Group(t, f, e, p, "cn", 3)
	lead := itemID(t, e, paths[0])
	// The last file is cancelled after the body was complete: it will be
	// deleted on the server once the answer is in.
	if err := e.Cancel(itemID(t, e, paths[2])); err != nil {
		t.Fatal(err)
	}
	p.armDeletes()
	p.openUploads()
	waitSignal(t, p.delHeld, "the deletion of the cancelled file")
	// The lead's answer was taken before the deletion started. The user
	// cancels it now.
	cerr := e.Cancel(lead)
	p.openDeletes()
	r.wait(t, 30*time.Second, "the lead to settle", func(evs []Event) bool {
		return eventsForID(evs, lead, EventCancelled)+eventsForID(evs, lead, EventUploaded) > 0
	})
	if cerr != nil {
		// Fixed: its link was handed over before the deletion, so Cancel
		// answers that it is done.
		if n := eventsForID(r.drain(t, e), lead, EventUploaded); n != 1 {
			t.Errorf("Cancel refused (%v), but the file was announced uploaded %d times", cerr, n)
		}
		return
	}
	evs := r.drain(t, e)
	if n := eventsForID(evs, lead, EventUploaded); n != 0 {
		t.Errorf("Cancel returned nil, then the file was announced uploaded (%d) and its link recorded", n)
	}
	if it, ok := e.Item(lead); ok && it.State != StateCancelled {
		t.Errorf("the file ended %s, want cancelled (Cancel returned nil)", it.State)
	}
}

// BUG: cancelStored deletes a cancelled file's server copy under
// context.WithTimeout(e.workCtx, 30s). Close cancels the running uploads
// after ShutdownGrace (their job contexts), but e.workCtx is stopped only
// after every worker returned (e.wg.Wait), so a deletion that hangs keeps
// Close waiting for the full 30 s, whatever ShutdownGrace says. group.go
// cancelStored (the context), engine.go Close (stopWork after <-done).
// Expected: Close returns soon after ShutdownGrace (here 50 ms; the test
// allows 10 s).
func TestGroupReview3CloseWaitsForCancelStored(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	p := newR3Proxy(t, f)
	e, _, _ := hookedWorker(t, f, func(c *Config) { c.ShutdownGrace = 50 * time.Millisecond })
	paths, _ := r3Group(t, f, e, p, "cc", 3)
	if err := e.Cancel(itemID(t, e, paths[1])); err != nil {
		t.Fatal(err)
	}
	p.armDeletes() // the server does not answer the deletion
	p.openUploads()
	waitSignal(t, p.delHeld, "the deletion of the cancelled file")
	done := make(chan error, 1)
	go func() { done <- e.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("Close has not returned 10 s after it was called (ShutdownGrace 50 ms): it waits for a deletion of a cancelled file")
		p.openDeletes()
		<-done
	}
}

// BUG: a twin (a member with the same bytes as a file sent in the group)
// whose sent twin failed with a 5xx is put back with e.requeue: no attempt
// counted, no back-off, no failure. It is picked again at once and sent on
// its own to the server that just failed, while its twin (same bytes) and
// the rest of the group back off. group.go sendGroup, the twins' `default`
// case. Requirement: 5xx → retry with back-off.
// Expected: after the group's 503, no file of the group is sent before its
// back-off ends (here an hour).
func TestGroupReview3TwinOfFailedSkipsBackoff(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e, r, _ := hookedWorker(t, f, func(c *Config) {
		c.ReuseLinks = true
		c.RetryBase, c.RetryMax = time.Hour, time.Hour
	})
	release := occupy(t, f, e)
	data := make([]byte, 1500)
	copy(data, "twin bytes, review 3")
	a, b := filepath.Join(f.dir, "tw-a.png"), filepath.Join(f.dir, "tw-b.png")
	for _, pth := range []string{a, b} {
		if err := os.WriteFile(pth, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := f.write(t, "tw-c.png", 1200)
	for _, res := range e.addMany([]addReq{{path: a}, {path: c}, {path: b}}) {
		if res.err != nil || !res.added {
			t.Fatalf("queue: %v %v", res.added, res.err)
		}
	}
	bID := itemID(t, e, b)
	f.srv.FailNext(1, ziplinetest.Failure{Path: "/api/upload", Status: 503})
	before := len(f.uploadRequests())
	release()
	r.wait(t, 20*time.Second, "the group's failure", func(evs []Event) bool {
		return eventsFor(evs, a, EventFailed) > 0 && eventsFor(evs, c, EventFailed) > 0
	})
	testutil.WaitFor(t, 20*time.Second, "the twin to settle", func() bool {
		if eventsFor(r.snapshot(), b, EventUploaded) > 0 {
			return true
		}
		it, ok := e.Item(bID)
		e.mu.Lock()
		_, busy := e.running[bID]
		e.mu.Unlock()
		return ok && !busy && !it.NextAttempt.IsZero()
	})
	if n := eventsFor(r.snapshot(), b, EventUploaded); n > 0 {
		reqs := f.uploadRequests()[before:]
		t.Errorf("the group failed with 503 (its files back off for an hour), but the twin was sent again at once on its own and uploaded (%d upload requests since the occupying one, the group's included)", len(reqs))
	}
}
