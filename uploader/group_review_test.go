package uploader

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// hookCreds hands out f.creds' clients and, once armed, calls on after
// the n-th Client call (counting from 1 since arm). The engine asks for a
// client once per prepared file (Engine.prepare), so with one worker the
// calls after arming are: the lead's, then each group member's in order.
type hookCreds struct {
	inner *testCreds
	mu    sync.Mutex
	n     int
	on    func(n int)
}

func (h *hookCreds) Client(ctx context.Context) (*zipline.Client, error) {
	c, err := h.inner.Client(ctx)
	h.mu.Lock()
	on := h.on
	if on != nil {
		h.n++
	}
	n := h.n
	h.mu.Unlock()
	if on != nil {
		on(n)
	}
	return c, err
}

func (h *hookCreds) arm(on func(n int)) {
	h.mu.Lock()
	h.n, h.on = 0, on
	h.mu.Unlock()
}

// hookedWorker opens a one-worker engine on hooked credentials.
func hookedWorker(t *testing.T, f *fixture, edit func(*Config)) (*Engine, *recorder, *hookCreds) {
	hc := &hookCreds{inner: f.creds}
	cfg := f.config()
	cfg.Concurrency = 1
	cfg.Credentials = hc
	if edit != nil {
		edit(&cfg)
	}
	e := f.open(t, cfg)
	return e, recordEvents(t, e), hc
}

// occupy starts a slow upload that keeps the only worker busy while the
// test queues files behind it; the returned func lets it go (cancels it),
// after which the worker takes the queued files as one group.
func occupy(t *testing.T, f *fixture, e *Engine) func() {
	t.Helper()
	f.srv.SetDelay("/api/upload", 30*time.Second)
	first, _ := f.write(t, "occupy.png", 500)
	it, _, err := e.Add(first, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the first request", func() bool { return f.srv.InFlight() == 1 })
	return func() {
		f.srv.SetDelay("/api/upload", 0)
		if err := e.Cancel(it.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func itemID(t *testing.T, e *Engine, path string) ItemID {
	t.Helper()
	for _, it := range e.Queue() {
		if it.Path == path {
			return it.ID
		}
	}
	t.Fatalf("%s is not in the queue", path)
	return 0
}

func eventsFor(evs []Event, path string, typ EventType) int {
	return countEvents(evs, func(ev Event) bool { return ev.Path == path && ev.Type == typ })
}

func countEvents(evs []Event, match func(Event) bool) int {
	n := 0
	for _, ev := range evs {
		if match(ev) {
			n++
		}
	}
	return n
}

// BUG: a group member the user cancels while the group is being prepared
// is put back in the queue, and uploaded later, when its prepare ends in a
// requeue (same content as another file of the group, or grown past 4 MiB):
// sendGroup's `seen[p.key]` branch and prepare's `data == nil && small`
// branch call e.requeue without looking at the member's context. Cancel
// returned nil ("the worker records it"), so the user was told it worked.
// Expected: the member ends cancelled (EventCancelled) and is never
// uploaded.
func TestGroupReviewCancelledMemberRequeued(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e, r, _ := hookedWorker(t, f, nil)
	release := occupy(t, f, e)
	// Two files with the same bytes: the second is the lead's duplicate.
	data := make([]byte, 1500)
	copy(data, "same bytes in two files")
	a, b := filepath.Join(f.dir, "a.png"), filepath.Join(f.dir, "b.png")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, res := range e.addMany([]addReq{{path: a}, {path: b}}) {
		if res.err != nil || !res.added {
			t.Fatalf("queue: %v %v", res.added, res.err)
		}
	}
	bID := itemID(t, e, b)
	blocked, unblock := make(chan struct{}), make(chan struct{})
	e.memberHook = func(it Item) {
		if it.Path == b { // b's prepare, as a member of a's group
			close(blocked)
			<-unblock
		}
	}
	release()
	select {
	case <-blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("b was not prepared as a member of a's group")
	}
	err := e.Cancel(bID) // b is running (a group member): the worker records it
	close(unblock)
	if err != nil {
		t.Fatalf("cancel b: %v", err)
	}
	testutil.WaitFor(t, 20*time.Second, "the queue to empty", func() bool { return len(e.Queue()) == 0 })
	r.wait(t, 10*time.Second, "a uploaded, b settled", func(evs []Event) bool {
		return eventsFor(evs, a, EventUploaded) == 1 &&
			eventsFor(evs, b, EventUploaded)+eventsFor(evs, b, EventCancelled) > 0
	})
	evs := r.snapshot()
	if got := eventsFor(evs, b, EventUploaded); got != 0 {
		t.Errorf("b was cancelled while running but was uploaded anyway (%d uploaded events)", got)
	}
	if got := eventsFor(evs, b, EventCancelled); got != 1 {
		t.Errorf("b: %d cancelled events, want 1", got)
	}
	if it, ok := e.Item(bID); !ok || it.State != StateCancelled {
		t.Errorf("b ended %s (%q), want cancelled", it.State, it.Reason)
	}
}

// BUG: claimGroup checks a member with the size the queue recorded
// (groupable(next, ...)), but the file is read later (sendGroup → prepare)
// and its new size is never checked again. A member that grew past the
// server's chunk threshold (still under 4 MiB, so read into memory) makes
// UploadMany refuse the whole group with a plain error ("it needs a chunked
// upload"), which sendMany's default branch treats like a 5xx: every file
// of the group gets a "failed" event and backs off.
// Expected: the grown member goes on its own (chunked); the others go up
// without any failure.
func TestGroupReviewMemberGrewPastChunkMin(t *testing.T) {
	f := newFixtureWith(t, ziplinetest.RoleAdmin, ziplinetest.Config{ChunkSize: 2000, ChunkMax: 4000})
	e, r, _ := hookedWorker(t, f, nil)
	release := occupy(t, f, e)
	paths, _ := queueAll(t, f, e, "gc", 4, 1000)
	// paths[2] grows after it was queued (a capture still being written
	// when the watcher saw it; the watcher's next event has not come yet).
	f.write(t, "gc02.png", 6000)
	release()
	r.wait(t, 30*time.Second, "4 uploads", func(evs []Event) bool {
		n := 0
		for _, p := range paths {
			n += eventsFor(evs, p, EventUploaded)
		}
		return n == 4
	})
	for _, ev := range r.snapshot() {
		if ev.Type == EventFailed {
			t.Errorf("%s failed (%s): a file of the group grew past the chunk size, none of them is at fault", filepath.Base(ev.Path), ev.Reason)
		}
	}
}

// BUG: a group's members are claimed with the credentials generation of
// the moment (claimLocked: gen = e.credGen), but the request is sent with
// the lead's client (ps[0].c), fetched earlier. When the user signs in
// again between the two (CredentialsChanged after the old token was
// reset), the 401 that the old token gets is charged to the members as if
// the NEW credentials had been refused (Engine.fail: gen == e.credGen):
// the queue pauses, "auth required" is announced, and nothing goes up
// until the user signs in yet again. One file per request (the control
// subtest) handles the same moment fine: the 401 of the old client is
// ignored and the file goes again with the new one.
// Expected: no pause, no auth-required event, every file uploaded.
func TestGroupReviewCredentialsChangedMidGroup(t *testing.T) {
	for _, one := range []bool{false, true} {
		name := "grouped"
		if one {
			name = "oneFilePerRequest(control)"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, ziplinetest.RoleAdmin)
			e, r, hc := hookedWorker(t, f, func(c *Config) { c.OneFilePerRequest = one })
			hc.arm(func(n int) {
				if n != 1 {
					return
				}
				// The lead has its client (the old token). The user resets
				// the token and signs in again.
				if err := f.srv.ResetToken(f.user); err != nil {
					t.Error(err)
				}
				tok, err := f.srv.IssueToken(f.user)
				if err != nil {
					t.Error(err)
				}
				f.creds.setToken(tok)
				e.CredentialsChanged()
			})
			const n = 4
			_, sums := queueAll(t, f, e, "cc", n, 1000)
			r.wait(t, 30*time.Second, "every upload, or an auth-required event", func(evs []Event) bool {
				return countType(evs, EventUploaded) == n || countType(evs, EventAuthRequired) > 0
			})
			if got := countType(r.snapshot(), EventAuthRequired); got != 0 {
				t.Fatalf("%d auth-required events and the queue is paused (%v), though the credentials in force are valid", got, e.Paused())
			}
			checkLinks(t, f, r, sums)
		})
	}
}

// BUG: each member is prepared with the settings in force when it is
// prepared (prepare: e.live.getKeyed()), and its upload record key and
// history entry say so, but the group goes with the lead's options
// (UploadMany(..., ps[0].set.Options, ...)). After SetSettings between the
// lead's prepare and the members', the members are uploaded with the old
// options while their records claim the new ones (a later file with the
// same content reuses a link that does not have the options the record
// says, e.g. max views or a password).
// Expected: a file's record/history options are the ones it was uploaded
// with (members use the lead's settings, or a member whose settings differ
// is not grouped).
func TestGroupReviewSettingsChangedMidGroup(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e, r, _ := hookedWorker(t, f, nil)
	var once sync.Once
	e.memberHook = func(Item) {
		// Before the first member's prepare; the lead read the settings
		// already.
		once.Do(func() {
			s := e.Settings()
			s.Options.MaxViews = 3
			if err := e.SetSettings(s); err != nil {
				t.Error(err)
			}
		})
	}
	const n = 4
	queueAll(t, f, e, "sc", n, 1000)
	r.wait(t, 30*time.Second, "every upload", func(evs []Event) bool { return countType(evs, EventUploaded) == n })
	byID := map[string]ziplinetest.File{}
	for _, file := range f.srv.Files() {
		byID[file.ID] = file
	}
	testutil.WaitFor(t, 10*time.Second, "the history", func() bool {
		h, err := e.History(0)
		return err == nil && len(h) == n
	})
	h, _ := e.History(0)
	for _, entry := range h {
		file, ok := byID[entry.FileID]
		if !ok {
			t.Errorf("%s: no server file %s", entry.Name, entry.FileID)
			continue
		}
		sent := OptionsKey(zipline.UploadOptions{MaxViews: file.MaxViews})
		if !strings.HasSuffix(entry.Options, "|"+sent) {
			recorded := "the old ones"
			if strings.HasSuffix(entry.Options, "|"+OptionsKey(zipline.UploadOptions{MaxViews: 3})) {
				recorded = "max views 3"
			}
			t.Errorf("%s: uploaded with max views %d, but its record and history say %s", entry.Name, file.MaxViews, recorded)
		}
	}
}

// BUG: every claimed job gets a context derived from e.workCtx
// (claimLocked: context.WithCancelCause(e.workCtx)). A worker cancels its
// own job's when done (startLocked: j.cancel(nil)), but a group member's
// (member.j.cancel) is never called: each grouped file leaves a child
// context registered in e.workCtx, which lives as long as the engine — a
// leak that grows with every burst for the life of the tray app.
// Expected: once the queue is idle, no job context is left under workCtx.
func TestGroupReviewMemberContextsReleased(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e, r := oneWorker(t, f)
	const n = 8
	queueAll(t, f, e, "cx", n, 1000)
	r.wait(t, 30*time.Second, "every upload", func(evs []Event) bool { return countType(evs, EventUploaded) == n })
	testutil.WaitFor(t, 10*time.Second, "an idle queue", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.running) == 0 && e.finishing == 0
	})
	if reqs := len(f.uploadRequests()); reqs >= n {
		t.Skipf("not grouped (%d requests)", reqs)
	}
	// Read under the context's own lock (its mu guards children).
	v := reflect.ValueOf(e.workCtx).Elem()
	childrenF, muF := v.FieldByName("children"), v.FieldByName("mu")
	if !childrenF.IsValid() || !muF.IsValid() || muF.Type() != reflect.TypeFor[sync.Mutex]() {
		t.Skip("context internals changed")
	}
	mu := (*sync.Mutex)(unsafe.Pointer(muF.UnsafeAddr()))
	live := func() int {
		mu.Lock()
		defer mu.Unlock()
		return childrenF.Len()
	}
	// The worker cancels its own job's context just after it returns.
	deadline := time.Now().Add(5 * time.Second)
	for live() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := live(); got != 0 {
		t.Errorf("%d job contexts still registered under workCtx with the queue idle after %d grouped uploads in %d requests; want 0",
			got, n, len(f.uploadRequests()))
	}
}

// Passes (kept: no existing test sends a group into a 401). A group
// refused with 401 pauses the queue with one "auth required" event, keeps
// every file queued without a failure, and after new credentials every
// file goes up once with its own link.
func TestGroupReview401MidGroup(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e, r := oneWorker(t, f)
	release := occupy(t, f, e)
	if err := f.srv.ResetToken(f.user); err != nil {
		t.Fatal(err)
	}
	const n = 6
	_, sums := queueAll(t, f, e, "ua", n, 1000)
	release()
	r.wait(t, 10*time.Second, "the pause", func(evs []Event) bool { return countType(evs, EventAuthRequired) > 0 })
	testutil.WaitFor(t, 10*time.Second, "the group to settle", func() bool {
		for _, it := range e.Queue() {
			if it.State != StateQueued {
				return false
			}
		}
		return len(e.Queue()) == n
	})
	if got := countType(r.snapshot(), EventFailed); got != 0 {
		t.Errorf("%d failed events for a 401, want none", got)
	}
	tok, err := f.srv.IssueToken(f.user)
	if err != nil {
		t.Fatal(err)
	}
	f.creds.setToken(tok)
	e.CredentialsChanged()
	r.wait(t, 30*time.Second, "every upload", func(evs []Event) bool { return countType(evs, EventUploaded) == n })
	checkLinks(t, f, r, sums)
	if got := countType(r.snapshot(), EventAuthRequired); got != 1 {
		t.Errorf("%d auth-required events, want 1", got)
	}
}

// Passes (kept: Close during a group's request is not covered elsewhere).
// Close while a group is in flight cancels it after the grace period and
// leaves every file of the group queued on disk, with no attempt counted.
func TestGroupReviewCloseDuringGroup(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.Concurrency = 1
	cfg.ShutdownGrace = 50 * time.Millisecond
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := recordEvents(t, e)
	release := occupy(t, f, e)
	const n = 5
	paths, _ := queueAll(t, f, e, "cl", n, 1000)
	release()
	f.srv.SetDelay("/api/upload", 30*time.Second)
	r.wait(t, 10*time.Second, "the group to start", func(evs []Event) bool {
		for _, p := range paths {
			if eventsFor(evs, p, EventStarted) == 0 {
				return false
			}
		}
		return true
	})
	testutil.WaitFor(t, 10*time.Second, "the group's request", func() bool { return f.srv.InFlight() == 1 })
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := openStore(f.state, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	all, err := st.items()
	if err != nil {
		t.Fatal(err)
	}
	var q []Item
	for _, it := range all {
		if strings.HasPrefix(filepath.Base(it.Path), "cl") {
			q = append(q, it)
		}
	}
	if len(q) != n {
		t.Fatalf("%d items queued after Close, want %d", len(q), n)
	}
	for _, it := range q {
		if it.State != StateQueued || it.Attempts != 0 {
			t.Errorf("%s: %s, %d attempts after Close; want queued, 0", filepath.Base(it.Path), it.State, it.Attempts)
		}
	}
}
