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

	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// gateProxy stands between the engine and the fake server. Once armed, an
// upload request (POST /api/upload) waits at the proxy, before reaching the
// server, until open is called: a test can act while a group's request is
// in flight, and decide when it ends.
//
// With afterServer (newGateProxyAfter), the request goes through and the
// server handles it (stores the files) and answers; the answer waits at the
// proxy: a request whose body was sent whole, its answer on the way back.
type gateProxy struct {
	mu          sync.Mutex
	armed       bool
	afterServer bool
	gate        chan struct{}
	arrived     chan struct{} // one value per request held
}

func newGateProxy(t *testing.T, f *fixture) *gateProxy {
	t.Helper()
	return newGateProxyMode(t, f, false)
}

func newGateProxyAfter(t *testing.T, f *fixture) *gateProxy {
	t.Helper()
	return newGateProxyMode(t, f, true)
}

// hold waits at the gate if armed; false: the client went away.
func (g *gateProxy) hold(r *http.Request) bool {
	g.mu.Lock()
	armed, gate := g.armed, g.gate
	g.mu.Unlock()
	if !armed {
		return true
	}
	g.arrived <- struct{}{}
	select {
	case <-gate:
		return true
	case <-r.Context().Done():
		return false
	}
}

func newGateProxyMode(t *testing.T, f *fixture, afterServer bool) *gateProxy {
	t.Helper()
	target, err := url.Parse(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	g := &gateProxy{afterServer: afterServer, gate: make(chan struct{}), arrived: make(chan struct{}, 64)}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // requests the engine cancels
	if afterServer {
		rp.ModifyResponse = func(resp *http.Response) error {
			r := resp.Request
			if r.Method == http.MethodPost && r.URL.Path == "/api/upload" && !g.hold(r) {
				return r.Context().Err()
			}
			return nil
		}
	}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !afterServer && r.Method == http.MethodPost && r.URL.Path == "/api/upload" && !g.hold(r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	f.creds.server = proxy.URL
	return g
}

// arm makes the next upload requests wait until open.
func (g *gateProxy) arm() {
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
}

// open lets held and later requests through.
func (g *gateProxy) open() {
	g.mu.Lock()
	if g.armed {
		g.armed = false
		close(g.gate)
		g.gate = make(chan struct{})
	}
	g.mu.Unlock()
}

func (g *gateProxy) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-g.arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("no upload request reached the proxy")
	}
}

// BUG: a group member that is not sent in the group's request (its
// outcome was decided while members were prepared: grown past 4 MiB and put
// back to go "solo"; the same bytes as another file of the group, to get
// that file's link; a link reused from the upload records) stays in
// e.running, shown as uploading, until the group's request ends. Cancel
// finds it running, cancels its context and returns nil ("the worker
// records it"), but nothing looks at that context again: its context is
// not one the request listens to (sendMany: ctxs holds the sent ones only),
// and sendGroup settles it with the outcome decided before (m.out) or,
// for a twin, reused(...) without a look at m.j.ctx. So a file the user
// cancelled, and was told so, is put back in the queue and uploaded
// later ("grown"), or announced as uploaded ("twin", "reused record").
// group.go:95, 99 (outcomes decided before the request) and 121, 124
// (settled after it with no look at m.j.ctx).
// Expected: a member cancelled while it waits for its group ends
// cancelled (one "cancelled" event, no "uploaded"), as a file sent in the
// request does (TestGroupCancelMember).
func TestGroupReview2CancelledWhileGroupInFlight(t *testing.T) {
	for _, tc := range []string{"grown", "twin", "reused record"} {
		t.Run(tc, func(t *testing.T) {
			f := newFixture(t, ziplinetest.RoleAdmin)
			gp := newGateProxy(t, f)
			e, r, _ := hookedWorker(t, f, func(c *Config) { c.ReuseLinks = true })
			var victim string
			if tc == "reused record" {
				// Uploaded once: its record is there. Queued again (a
				// user's explicit upload), it gets that link in prepare.
				p, _ := f.write(t, "again.png", 1400)
				if _, _, err := e.Add(p, AddOptions{}); err != nil {
					t.Fatal(err)
				}
				r.wait(t, 20*time.Second, "the first upload", func(evs []Event) bool { return eventsFor(evs, p, EventUploaded) == 1 })
				victim = p
			}
			release := occupy(t, f, e)
			paths, _ := queueAll(t, f, e, "cw", 3, 1000)
			switch tc {
			case "grown":
				victim = paths[1]
			case "twin":
				data, err := os.ReadFile(paths[0])
				if err != nil {
					t.Fatal(err)
				}
				victim = filepath.Join(f.dir, "cw-twin.png")
				if err := os.WriteFile(victim, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc != "grown" {
				if _, _, err := e.Add(victim, AddOptions{Force: true}); err != nil {
					t.Fatal(err)
				}
			}
			vID := itemID(t, e, victim)
			var once sync.Once
			e.memberHook = func(it Item) {
				once.Do(gp.arm) // the group's request will wait at the proxy
				if tc == "grown" && it.Path == victim {
					// Still being written when the watcher saw it: now
					// over 4 MiB, it goes on its own.
					f.write(t, filepath.Base(victim), 5<<20)
				}
			}
			release()
			gp.waitHeld(t) // the group's request
			r.wait(t, 10*time.Second, "the victim to start in the group", func(evs []Event) bool {
				return eventsForID(evs, vID, EventStarted) > 0
			})
			// Only a file that goes in the request (the twin's link comes
			// from it) may still show as uploading; the others are settled
			// before the request (fix of this review).
			if it, _ := e.Item(vID); (it.State == StateUploading) != (tc == "twin") {
				t.Errorf("%s: victim is %s while its group is in flight", tc, it.State)
			}
			cerr := e.Cancel(vID)
			gp.open()
			r.wait(t, 30*time.Second, "the victim to settle", func(evs []Event) bool {
				return eventsForID(evs, vID, EventCancelled)+eventsForID(evs, vID, EventUploaded) > 0
			})
			evs := r.snapshot()
			if cerr != nil {
				// Settled before the cancel (a reused link): then it must
				// have been announced, once, and Cancel says why not.
				if tc != "reused record" || eventsForID(evs, vID, EventUploaded) != 1 {
					t.Errorf("%s: cancel: %v", tc, cerr)
				}
				return
			}
			if n := eventsForID(evs, vID, EventUploaded); n != 0 {
				t.Errorf("%s: Cancel returned nil while it waited for its group, then it was announced uploaded (%d)", tc, n)
			}
			if n := eventsForID(evs, vID, EventCancelled); n != 1 {
				t.Errorf("%s: %d cancelled events, want 1", tc, n)
			}
			if it, ok := e.Item(vID); !ok || it.State != StateCancelled {
				t.Errorf("%s: the cancelled member ended %s (%q), want cancelled", tc, it.State, it.Reason)
			}
		})
	}
}

// BUG: cancelling one file of a group whose body has been sent whole (the
// server has stored every file; its answer is on the way back) aborts the
// shared request (sendMany: every member's context cancels gctx), and the
// other files, which "lost their request through no fault of their own",
// are put back and uploaded again: each is stored twice on the server and
// the first copies' links are lost. One file per request never stores a
// file twice because the user cancelled another one. group.go:168-171
// (the AfterFunc per member context) and the gctx.Err() branch
// (group.go:192-197).
// Expected: the files not cancelled are on the server once, each announced
// once with its own link (e.g. a member's Cancel does not abort the
// request once its body is sent: the cancelled file is settled as
// cancelled, and its copy deleted on the server if wanted).
func TestGroupReview2CancelMemberAfterBodySent(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	gp := newGateProxyAfter(t, f)
	e, r, _ := hookedWorker(t, f, nil)
	release := occupy(t, f, e)
	paths, sums := queueAll(t, f, e, "cs", 4, 1000)
	var once sync.Once
	e.memberHook = func(Item) { once.Do(gp.arm) }
	release()
	gp.waitHeld(t) // the server has the group's files; the answer waits
	stored := 0
	for _, file := range f.srv.Files() {
		for _, s := range sums {
			if file.SHA256 == s {
				stored++
			}
		}
	}
	if stored != len(paths) {
		t.Fatalf("the server stored %d of the group's %d files before answering", stored, len(paths))
	}
	victim := paths[2]
	victimSum := sums[victim]
	if err := e.Cancel(itemID(t, e, victim)); err != nil {
		t.Fatal(err)
	}
	gp.open()
	delete(sums, victim)
	r.wait(t, 30*time.Second, "the victim cancelled, the others uploaded", func(evs []Event) bool {
		n := 0
		for p := range sums {
			n += eventsFor(evs, p, EventUploaded)
		}
		return n == len(sums) && eventsFor(evs, victim, EventCancelled) == 1
	})
	checkAnnounced(t, f, r, sums)
	counts := f.serverCounts()
	for p, s := range sums {
		if counts[s] != 1 {
			t.Errorf("%s is on the server %d times: another file's Cancel made it go up again", filepath.Base(p), counts[s])
		}
	}
	// The cancelled file had reached the server: it is deleted there, and
	// the user is told.
	if counts[victimSum] != 0 {
		t.Errorf("the cancelled file is still on the server (%d)", counts[victimSum])
	}
	for _, ev := range r.snapshot() {
		if ev.Type == EventCancelled && ev.Path == victim && !strings.Contains(ev.Reason, "deleted there") {
			t.Errorf("cancelled with %q, want it to say the server's copy was deleted", ev.Reason)
		}
	}
	if n := countType(r.snapshot(), EventFailed); n != 0 {
		t.Errorf("%d failed events, want none", n)
	}
}

func eventsForID(evs []Event, id ItemID, typ EventType) int {
	return countEvents(evs, func(ev Event) bool { return ev.Item == id && ev.Type == typ })
}
