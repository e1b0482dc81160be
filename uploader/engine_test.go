package uploader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
	bolt "go.etcd.io/bbolt"
)

func TestUploadRecordsHistoryAndCopiesLink(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.LinkFormat = LinkMarkdown
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	p, sum := f.write(t, "shot.png", 3000)
	it, added, err := e.Add(p, AddOptions{})
	if err != nil || !added {
		t.Fatalf("Add = %v, %v", added, err)
	}
	r.wait(t, 10*time.Second, "upload", func(evs []Event) bool { return countType(evs, EventUploaded) == 1 })
	var up Event
	for _, ev := range r.snapshot() {
		if ev.Type == EventUploaded {
			up = ev
		}
	}
	if up.Item != it.ID || up.URL == "" || up.FileID == "" {
		t.Fatalf("uploaded event = %+v", up)
	}
	if want := "![shot.png](" + up.URL + ")"; up.Link != want {
		t.Errorf("link = %q, want %q", up.Link, want)
	}
	if !strings.Contains(up.RawURL, "/raw/") {
		t.Errorf("raw URL = %q", up.RawURL)
	}
	if c := f.serverCounts(); c[sum] != 1 || len(c) != 1 {
		t.Errorf("server has %v, want one copy of %s", c, sum)
	}
	testutil.WaitFor(t, 5*time.Second, "clipboard", func() bool { return f.clip.get() == up.Link })
	h, err := e.History(10)
	if err != nil || len(h) != 1 {
		t.Fatalf("history = %v, %v", h, err)
	}
	if h[0].URL != up.URL || h[0].FileID != up.FileID || h[0].Size != 3000 || h[0].Path != p || h[0].Name != "shot.png" {
		t.Errorf("history entry = %+v", h[0])
	}
	if q := e.Queue(); len(q) != 0 {
		t.Errorf("queue not empty after upload: %+v", q)
	}
	// The same file seen again (a rescan, a restart) is not queued twice.
	if again, added, err := e.Add(p, AddOptions{Source: SourceWatch}); err != nil || added || again.ID != it.ID {
		t.Errorf("re-Add = %+v, %v, %v; want the earlier item, not added", again, added, err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("local file touched: %v", err)
	}
}

func TestOneOwner(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	start := time.Now()
	_, err := Open(f.config())
	if !errors.Is(err, ErrOwned) {
		t.Fatalf("second Open = %v, want ErrOwned", err)
	}
	t.Logf("second Open failed after %v", time.Since(start))
	// A control request reaches the owner within a second.
	p, _ := f.write(t, "a.png", 100)
	e.Add(p, AddOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := Do(ctx, f.state, nil, Request{Op: OpHistory})
	if err != nil {
		t.Fatalf("Do(history) through the owner: %v", err)
	}
	if resp.PID != os.Getpid() {
		t.Errorf("answered by pid %d, want the owner %d", resp.PID, os.Getpid())
	}
}

func TestServerDownThen503(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.Down()
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	const n = 6
	sums := map[string]string{}
	for i := range n {
		p, sum := f.write(t, fmt.Sprintf("down%d.png", i), 500+i)
		sums[p] = sum
		if _, _, err := e.Add(p, AddOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Every file fails at least once with "retrying" while the server is down.
	r.wait(t, 10*time.Second, "retrying failures", func(evs []Event) bool {
		seen := map[string]bool{}
		for _, ev := range evs {
			if ev.Type == EventFailed && ev.Retrying {
				seen[ev.Path] = true
			}
		}
		return len(seen) == n
	})
	if got := countType(r.snapshot(), EventUploaded); got != 0 {
		t.Fatalf("%d uploads while the server was down", got)
	}
	f.srv.FailNext(4, ziplinetest.Failure{Path: "/api/upload", Status: 503})
	if err := f.srv.Up(); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 20*time.Second, "all uploads", func(evs []Event) bool { return len(uploadedPaths(evs)) == n })
	counts := f.serverCounts()
	for p, sum := range sums {
		if counts[sum] != 1 {
			t.Errorf("%s on the server %d times, want 1", p, counts[sum])
		}
	}
	var saw503 bool
	for _, rq := range f.uploadRequests() {
		saw503 = saw503 || rq.Status == 503
	}
	if !saw503 {
		t.Error("the fake never answered 503: the test did not test it")
	}
	for _, ev := range r.snapshot() {
		if ev.Type == EventFailed && !ev.Retrying {
			t.Errorf("gave up on %s: %s", ev.Path, ev.Reason)
		}
	}
}

func TestUnauthorizedPausesAndResumes(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	// Long enough that the burst, sent 8 files per request, is still
	// going when the token is reset.
	f.srv.SetDelay("/api/upload", 100*time.Millisecond)
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	const n = 30
	sums := map[string]string{}
	for i := range n {
		p, sum := f.write(t, fmt.Sprintf("burst%02d.png", i), 200+i)
		sums[p] = sum
		if _, _, err := e.Add(p, AddOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	r.wait(t, 10*time.Second, "5 uploads", func(evs []Event) bool { return countType(evs, EventUploaded) >= 5 })
	if err := f.srv.ResetToken(f.user); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 10*time.Second, "auth required", func(evs []Event) bool { return countType(evs, EventAuthRequired) >= 1 })
	if !e.Paused() {
		t.Fatal("queue not paused after 401")
	}
	// Paused: the workers in flight settle, and nothing new starts.
	testutil.WaitFor(t, 5*time.Second, "in-flight uploads to settle", func() bool { return e.Status().Running == 0 })
	before := len(f.uploadRequests())
	uploadedBefore := countType(r.snapshot(), EventUploaded)
	if q := e.Queue(); len(q) != n-uploadedBefore {
		t.Fatalf("queue has %d items while paused, want %d (nothing lost)", len(q), n-uploadedBefore)
	}
	// Sign in again.
	tok, err := f.srv.IssueToken(f.user)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.uploadRequests()); got != before {
		t.Fatalf("%d upload requests while paused", got-before)
	}
	f.creds.setToken(tok)
	e.CredentialsChanged()
	r.wait(t, 20*time.Second, "all uploads", func(evs []Event) bool { return len(uploadedPaths(evs)) == n })
	evs := r.snapshot()
	if got := countType(evs, EventAuthRequired); got != 1 {
		t.Errorf("%d auth_required events, want exactly 1", got)
	}
	if got := countType(evs, EventResumed); got != 1 {
		t.Errorf("%d resumed events, want 1", got)
	}
	counts := f.serverCounts()
	for p, sum := range sums {
		if counts[sum] != 1 {
			t.Errorf("%s on the server %d times, want 1", filepath.Base(p), counts[sum])
		}
	}
}

// TestRateLimitGate: a burst over the rate limit, one file per request
// (7 files, 3 requests per window) and grouped (40 files: at least 5
// requests).
func TestRateLimitGate(t *testing.T) {
	t.Run("one-per-request", func(t *testing.T) { testRateLimitGate(t, true, 7) })
	t.Run("grouped", func(t *testing.T) { testRateLimitGate(t, false, 40) })
}

func testRateLimitGate(t *testing.T, one bool, n int) {
	f := newFixture(t, ziplinetest.RoleUser)
	f.srv.SetUploadRateLimit(ziplinetest.RateLimit{Max: 3, Window: 2 * time.Second})
	cfg := f.config()
	cfg.OneFilePerRequest = one
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	for i := range n {
		p, _ := f.write(t, fmt.Sprintf("rl%d.png", i), 100+i)
		if _, _, err := e.Add(p, AddOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	r.wait(t, 30*time.Second, "all uploads", func(evs []Event) bool { return len(uploadedPaths(evs)) == n })
	if got := len(f.srv.Files()); got != n {
		t.Errorf("server has %d files, want %d", got, n)
	}
	// For every pause the engine announced: no upload request reached the
	// server between the 429 and the end of the wait, except requests that
	// were already on their way when the engine learned of the 429.
	reqs := f.uploadRequests()
	var pauses []Event
	for _, ev := range r.snapshot() {
		if ev.Type == EventPaused && !ev.Until.IsZero() {
			pauses = append(pauses, ev)
		}
	}
	if len(pauses) == 0 {
		t.Fatal("never rate limited: the test did not test the gate")
	}
	// Inside each wait no new request may start. The only requests the
	// server may see in it are ones the other worker (Concurrency-1 = 1)
	// had already sent when the 429 came back — and those are refused too.
	for _, p := range pauses {
		var inside []ziplinetest.Request
		for _, rq := range reqs {
			if rq.Time.After(p.Time) && rq.Time.Before(p.Until) {
				inside = append(inside, rq)
			}
		}
		if len(inside) > 1 {
			t.Errorf("%d upload requests inside the rate-limit wait %v..%v; at most 1 (already in flight) allowed",
				len(inside), p.Time.Format("15:04:05.000"), p.Until.Format("15:04:05.000"))
		}
		for _, rq := range inside {
			if rq.Status != 429 {
				t.Errorf("upload request at %v inside the wait %v..%v was answered %d", rq.Time.Format("15:04:05.000"),
					p.Time.Format("15:04:05.000"), p.Until.Format("15:04:05.000"), rq.Status)
			}
		}
	}
	var limited int
	for _, rq := range reqs {
		if rq.Status == 429 {
			limited++
		}
	}
	t.Logf("%d upload requests, %d answered 429, %d pauses", len(reqs), limited, len(pauses))
}

func TestPermanentFailureAndRetryAll(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	if err := f.srv.SetQuota(f.user, &ziplinetest.Quota{MaxFiles: 1}); err != nil {
		t.Fatal(err)
	}
	cfg := f.config()
	cfg.Concurrency = 1
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	p1, _ := f.write(t, "q1.png", 100)
	p2, _ := f.write(t, "q2.png", 100)
	e.Add(p1, AddOptions{})
	e.Add(p2, AddOptions{})
	r.wait(t, 10*time.Second, "one upload and one permanent failure", func(evs []Event) bool {
		var failed bool
		for _, ev := range evs {
			failed = failed || ev.Type == EventFailed && !ev.Retrying
		}
		return failed && countType(evs, EventUploaded) == 1
	})
	q := e.Queue()
	if len(q) != 1 || q[0].State != StateFailed || q[0].Retrying || !strings.Contains(q[0].Reason, "quota") {
		t.Fatalf("queue = %+v, want one permanent failure with the server's quota message", q)
	}
	if err := f.srv.SetQuota(f.user, nil); err != nil {
		t.Fatal(err)
	}
	if n := e.RetryAll(); n != 1 {
		t.Fatalf("RetryAll = %d, want 1", n)
	}
	r.wait(t, 10*time.Second, "upload after retry", func(evs []Event) bool { return countType(evs, EventUploaded) == 2 })
}

func TestCancelAndSkip(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.SetDelay("/api/upload", 30*time.Second) // the first upload hangs
	cfg := f.config()
	cfg.Concurrency = 1
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	p1, _ := f.write(t, "running.png", 100)
	p2, _ := f.write(t, "queued.png", 100)
	p3, _ := f.write(t, "vanishes.png", 100)
	i1, _, _ := e.Add(p1, AddOptions{})
	r.wait(t, 5*time.Second, "first upload to start", func(evs []Event) bool { return countType(evs, EventStarted) == 1 })
	i2, _, _ := e.Add(p2, AddOptions{})
	e.Add(p3, AddOptions{})
	if err := os.Remove(p3); err != nil {
		t.Fatal(err)
	}
	if err := e.Cancel(i2.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Cancel(i1.ID); err != nil { // running: aborts the request
		t.Fatal(err)
	}
	r.wait(t, 10*time.Second, "two cancels and a skip", func(evs []Event) bool {
		return countType(evs, EventCancelled) == 2 && countType(evs, EventSkipped) == 1
	})
	for _, ev := range r.snapshot() {
		if ev.Type == EventSkipped && (ev.Path != p3 || !strings.Contains(ev.Reason, "deleted")) {
			t.Errorf("skipped event = %+v", ev)
		}
	}
	if len(e.Queue()) != 0 {
		t.Errorf("queue = %+v, want empty", e.Queue())
	}
	for _, p := range []string{p1, p2} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("cancel touched the local file: %v", err)
		}
	}
	if got := countType(r.snapshot(), EventUploaded); got != 0 {
		t.Errorf("%d uploads, want 0", got)
	}
	// A cancelled item can be retried.
	f.srv.SetDelay("/api/upload", 0)
	if err := e.Retry(i2.ID); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 10*time.Second, "retried upload", func(evs []Event) bool { return countType(evs, EventUploaded) == 1 })
}

func TestReuseLinksAndHistoryDelete(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.ReuseLinks = true
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	p1, sum := f.write(t, "one.png", 400)
	data, _ := os.ReadFile(p1)
	p2 := filepath.Join(f.dir, "copy.png")
	os.WriteFile(p2, data, 0o644)

	e.Add(p1, AddOptions{})
	r.wait(t, 10*time.Second, "first upload", func(evs []Event) bool { return countType(evs, EventUploaded) == 1 })
	e.Add(p2, AddOptions{})
	r.wait(t, 10*time.Second, "reuse", func(evs []Event) bool { return countType(evs, EventUploaded) == 2 })
	evs := r.snapshot()
	var ups []Event
	for _, ev := range evs {
		if ev.Type == EventUploaded {
			ups = append(ups, ev)
		}
	}
	if !ups[1].Reused || ups[1].URL != ups[0].URL {
		t.Errorf("second upload of the same content = %+v, want the first link reused", ups[1])
	}
	if c := f.serverCounts(); c[sum] != 1 {
		t.Errorf("content on the server %d times, want 1", c[sum])
	}

	// Deleting it from the history deletes it on the server; the same
	// content is then uploaded again rather than given a dead link.
	h, _ := e.History(0)
	if len(h) != 1 {
		t.Fatalf("history = %+v, want one entry (the reuse is not a new upload)", h)
	}
	if err := e.DeleteHistory(context.Background(), h[0].ID); err != nil {
		t.Fatal(err)
	}
	if len(f.srv.Files()) != 0 {
		t.Errorf("server still has %d files after history delete", len(f.srv.Files()))
	}
	if h, _ := e.History(0); len(h) != 0 {
		t.Errorf("history after delete = %+v", h)
	}
	if _, added, _ := e.Add(p1, AddOptions{Force: true}); !added {
		t.Fatal("forced Add not added")
	}
	r.wait(t, 10*time.Second, "re-upload", func(evs []Event) bool { return countType(evs, EventUploaded) == 3 })
	last := r.snapshot()
	for i := len(last) - 1; i >= 0; i-- {
		if last[i].Type == EventUploaded {
			if last[i].Reused {
				t.Error("reused a link deleted on the server")
			}
			break
		}
	}
	if c := f.serverCounts(); c[sum] != 1 {
		t.Errorf("content on the server %d times after re-upload, want 1", c[sum])
	}
}

func TestDeleteAfterUpload(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.DeleteAfterUpload = true
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	p, _ := f.write(t, "gone.png", 100)
	e.Add(p, AddOptions{})
	r.wait(t, 10*time.Second, "upload", func(evs []Event) bool { return countType(evs, EventUploaded) == 1 })
	testutil.WaitFor(t, 5*time.Second, "local file removed", func() bool {
		_, err := os.Stat(p)
		return errors.Is(err, os.ErrNotExist)
	})
}

func TestResumeAfterRestart(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.Down()
	cfg := f.config()
	cfg.RetryBase = time.Hour // nothing retries during the first run
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	for i := range n {
		p, _ := f.write(t, fmt.Sprintf("r%d.png", i), 100+i)
		e.Add(p, AddOptions{})
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// Still down while the restarted queue is looked at: once the server is
	// up, an upload can finish before Queue is called.
	e2 := f.open(t, f.config())
	r := recordEvents(t, e2)
	if q := e2.Queue(); len(q) != n {
		t.Fatalf("after restart the queue has %d items, want %d", len(q), n)
	}
	f.srv.Up()
	// The first run's back-off was an hour; a restart tries again at once
	// (here: fails, then backs off by this run's RetryBase, 20 ms).
	r.wait(t, 10*time.Second, "uploads after restart", func(evs []Event) bool { return len(uploadedPaths(evs)) == n })
	if got := len(f.srv.Files()); got != n {
		t.Errorf("server has %d files, want %d", got, n)
	}
}

func TestClipboardHoldsLastLink(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	const n = 40
	for i := range n {
		p, _ := f.write(t, fmt.Sprintf("c%02d.png", i), 100)
		e.Add(p, AddOptions{})
	}
	r.wait(t, 20*time.Second, "uploads", func(evs []Event) bool { return countType(evs, EventUploaded) == n })
	var last string
	for _, ev := range r.snapshot() {
		if ev.Type == EventUploaded {
			last = ev.Link
		}
	}
	testutil.WaitFor(t, 5*time.Second, "clipboard = last link", func() bool { return f.clip.get() == last })
	f.clip.mu.Lock()
	sets := f.clip.sets
	f.clip.mu.Unlock()
	t.Logf("%d uploads, clipboard set %d times", n, sets)
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	var b broker
	ch, stop := b.subscribe()
	defer stop()
	done := make(chan struct{})
	go func() {
		for i := range 10000 {
			b.publish(Event{Type: EventProgress, Sent: int64(i)})
		}
		b.publish(Event{Type: EventUploaded, Path: "x"})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("publish blocked on a subscriber that reads nothing")
	}
	var progress int
	for ev := range ch {
		if ev.Type == EventUploaded {
			break
		}
		progress++
	}
	if progress > 2*maxBacklog+chanBuffer { // the channel, one batch in the pump, one backlog
		t.Errorf("slow subscriber got %d progress events; expected drops", progress)
	}
}

// Events reach a subscriber in the order published, all of them, whether
// they go into its channel directly or through the pump after it fell behind.
func TestSubscriberGetsEventsInOrder(t *testing.T) {
	var b broker
	ch, stop := b.subscribe()
	defer stop()
	const n = 20_000
	go func() {
		for i := range n {
			b.publish(Event{Type: EventQueued, Item: ItemID(i)})
		}
	}()
	for i := range n {
		if i%997 == 0 { // fall behind now and then, so the backlog fills
			time.Sleep(time.Millisecond)
		}
		select {
		case ev := <-ch:
			if ev.Item != ItemID(i) {
				t.Fatalf("event %d: got item %d", i, ev.Item)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d never came", i)
		}
	}
}

// TestSubscribeAllGetsEverythingAfterClose: a reader that has read nothing
// when the engine closes (`watch --json` piped into a slow consumer at
// Ctrl-C) still gets every event published before, in order, then the end.
func TestSubscribeAllGetsEverythingAfterClose(t *testing.T) {
	var b broker
	ch := b.subscribeAll()
	const n = 1000 // far more than the channel holds
	for i := range n {
		b.publish(Event{Type: EventQueued, Item: ItemID(i)})
	}
	b.closeAll()
	b.publish(Event{Type: EventQueued, Item: n}) // after the end: not delivered
	got := 0
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				if got != n {
					t.Fatalf("channel closed after %d of %d events", got, n)
				}
				return
			}
			if ev.Item != ItemID(got) {
				t.Fatalf("event %d: got item %d", got, ev.Item)
			}
			got++
		case <-timeout:
			t.Fatalf("%d of %d events, and the channel was not closed", got, n)
		}
	}
}

func TestLinkFormats(t *testing.T) {
	page := "https://z.example/u/aB3.png"
	raw := RawURL(page, "")
	if raw != "https://z.example/raw/aB3.png" {
		t.Errorf("RawURL = %q", raw)
	}
	for format, want := range map[string]string{
		"":       page,
		LinkURL:  page,
		LinkRaw:  raw,
		"md":     "![a [1].png](" + page + ")",
		LinkHTML: `<img src="` + page + `" alt="a [1].png">`,
	} {
		got, err := FormatLink(format, page, raw, "a [1].png")
		if format == "md" {
			want = `![a \[1\].png](` + page + ")"
		}
		if err != nil || got != want {
			t.Errorf("FormatLink(%q) = %q, %v; want %q", format, got, err, want)
		}
	}
	if _, err := FormatLink("bbcode", page, raw, "x"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestBackoff(t *testing.T) {
	for attempt := 1; attempt < 40; attempt++ {
		d := backoff(time.Second, 5*time.Minute, attempt)
		if d <= 0 || d > 5*time.Minute {
			t.Fatalf("backoff(%d) = %v", attempt, d)
		}
	}
	if d := backoff(time.Second, 5*time.Minute, 30); d < 150*time.Second {
		t.Errorf("backoff does not reach the cap: %v", d)
	}
}

// A file large enough to be chunked reports "processing" until the server
// has assembled it, and only then its link.
func TestChunkedUploadReportsProcessing(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{ChunkMax: 256 << 10, ChunkSize: 128 << 10, ProcessingDelay: 200 * time.Millisecond})
	t.Cleanup(srv.Close)
	srv.AddUser("alice", "password1", ziplinetest.RoleAdmin)
	tok, err := srv.IssueToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	f := &fixture{srv: srv, user: "alice", creds: &testCreds{server: srv.URL, token: tok}, state: filepath.Join(root, "state"), dir: root, clip: &memClipboard{}}
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	p, sum := f.write(t, "big.mp4", 600<<10)
	e.Add(p, AddOptions{})
	r.wait(t, 30*time.Second, "upload", func(evs []Event) bool { return countType(evs, EventUploaded) == 1 })
	var order []EventType
	for _, ev := range r.snapshot() {
		if ev.Type == EventProcessing || ev.Type == EventUploaded {
			order = append(order, ev.Type)
		}
	}
	if len(order) != 2 || order[0] != EventProcessing {
		t.Errorf("events = %v, want processing then uploaded", order)
	}
	if c := f.serverCounts(); c[sum] != 1 {
		t.Errorf("server has the file %d times (complete), want 1", c[sum])
	}
}

func TestControlRequests(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	if err := Notify(f.state, OpReloadCredentials); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Notify with nothing running = %v, want ErrNotRunning", err)
	}
	shown := make(chan struct{}, 1)
	cfg := f.config()
	cfg.OnShow = func() error { shown <- struct{}{}; return nil }
	e := f.open(t, cfg)
	if err := Notify(f.state, OpShow); err != nil {
		t.Fatal(err)
	}
	select {
	case <-shown:
	default:
		t.Fatal("show request did not reach OnShow")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := Call(ctx, f.state, Request{Op: "frobnicate"}); err == nil || !strings.Contains(err.Error(), "unknown request") {
		t.Errorf("unknown op: %v", err)
	}
	// add through the owner queues and uploads.
	r := recordEvents(t, e)
	p, _ := f.write(t, "dropped.png", 100)
	resp, err := Call(ctx, f.state, Request{Op: OpAdd, Paths: []string{p}})
	if err != nil || len(resp.Items) != 1 {
		t.Fatalf("add = %+v, %v", resp, err)
	}
	r.wait(t, 10*time.Second, "upload", func(evs []Event) bool { return uploadedPaths(evs)[p] == 1 })
	st, err := Call(ctx, f.state, Request{Op: OpStatus})
	if err != nil || st.Status == nil || st.Status.Paused {
		t.Errorf("status = %+v, %v", st, err)
	}
}

// The dispatcher picks the oldest ready item, also after an older item
// comes back (a retry) and after items in the middle finished.
func TestPickOldestReady(t *testing.T) {
	e := &Engine{items: map[ItemID]*Item{}, running: map[ItemID]context.CancelCauseFunc{}}
	now := time.Now()
	for _, id := range []ItemID{3, 4, 5, 6} {
		e.putLocked(&Item{ID: id, State: StateQueued})
	}
	pick := func() ItemID {
		if it := e.pickLocked(now); it != nil {
			return it.ID
		}
		return 0
	}
	if got := pick(); got != 3 {
		t.Fatalf("picked %d, want 3", got)
	}
	e.running[3] = nil
	if got := pick(); got != 4 {
		t.Fatalf("with 3 running picked %d, want 4", got)
	}
	delete(e.running, 3)
	delete(e.items, 3)
	delete(e.items, 5)
	e.items[4].NextAttempt = now.Add(time.Minute) // backing off
	if got := pick(); got != 6 {
		t.Fatalf("picked %d, want 6 (4 waits, 3 and 5 are done)", got)
	}
	e.putLocked(&Item{ID: 2, State: StateQueued}) // retried
	e.putLocked(&Item{ID: 2, State: StateQueued}) // twice: still once in the order
	if got := pick(); got != 2 {
		t.Fatalf("picked %d, want the retried 2", got)
	}
	if !slices.IsSorted(e.order) || len(e.order) != len(slices.Compact(slices.Clone(e.order))) || e.order[0] != 2 {
		t.Errorf("order = %v, want ascending, each once, starting with 2", e.order)
	}
}

// An "open" request hands uploader configs to the GUI; a process without
// one (the command-line watcher) says what to do instead.
func TestControlOpen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	_, err := Call(ctx, f.state, Request{Op: OpOpen, Paths: []string{"/x/a.sxcu"}})
	if err == nil || !strings.Contains(err.Error(), "zipline-tray import") {
		t.Errorf("open on a watcher = %v, want advice to use zipline-tray import", err)
	}
	e.Close()

	g := newFixture(t, ziplinetest.RoleAdmin)
	got := make(chan []string, 1)
	cfg := g.config()
	cfg.OnOpen = func(p []string) error { got <- p; return nil }
	g.open(t, cfg)
	if _, err := Call(ctx, g.state, Request{Op: OpOpen, Paths: []string{"/x/a.sxcu", "/x/b.iscu"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if len(p) != 2 || p[0] != "/x/a.sxcu" || p[1] != "/x/b.iscu" {
			t.Errorf("OnOpen got %v", p)
		}
	default:
		t.Fatal("the open request did not reach OnOpen")
	}
	if _, err := Call(ctx, g.state, Request{Op: OpOpen}); err == nil {
		t.Error("open with no files succeeded")
	}
}

// A file that changes while it waits in the queue gets one upload, of its
// new version (the watcher hands it over again; the waiting item is
// updated, not doubled).
func TestChangedWhileQueuedUploadedOnce(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.SetDelay("/api/upload", 2*time.Second)
	cfg := f.config()
	cfg.Concurrency = 1
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	stat := func(p string) AddOptions {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return AddOptions{Source: SourceWatch, Size: fi.Size(), ModTime: fi.ModTime()}
	}
	blocker, _ := f.write(t, "first.png", 1000) // takes the only slot
	e.addMany([]addReq{{path: blocker, o: stat(blocker)}})
	// Its request is on its way (alone: queued with it, the shot would
	// ride in it, grouped, instead of waiting).
	testutil.WaitFor(t, 10*time.Second, "the blocker's request", func() bool { return f.srv.InFlight() == 1 })
	p, oldSum := f.write(t, "shot.png", 2000)
	res := e.addMany([]addReq{{path: p, o: stat(p)}})
	if res[0].err != nil || !res[0].added {
		t.Fatalf("add: %+v", res[0])
	}
	first := res[0].it.ID
	_, newSum := f.write(t, "shot.png", 3000)
	again := e.addMany([]addReq{{path: p, o: stat(p)}})[0]
	if again.err != nil || again.added || again.it.ID != first || again.it.Size != 3000 {
		t.Fatalf("re-add of the changed file = %+v, want item %d updated to 3000 bytes", again, first)
	}
	if q := e.Queue(); len(q) != 2 {
		t.Errorf("queue holds %d items, want 2 (blocker and shot)", len(q))
	}
	r.wait(t, 20*time.Second, "both uploads", func(evs []Event) bool { return countType(evs, EventUploaded) == 2 })
	c := f.serverCounts()
	if c[newSum] != 1 || c[oldSum] != 0 {
		t.Errorf("server has the new version %d times and the old %d times, want 1 and 0", c[newSum], c[oldSum])
	}
}

// Subscribers must learn of a retried item as queued before it starts
// (the invariant enqueue now keeps by publishing under e.mu). Retry marks
// the item queued in memory, unlocks, writes it to disk and only then
// publishes "queued": a worker or the dispatcher that runs meanwhile
// starts (and may finish) it first. The disk write is held here so the
// window is wide open instead of a few microseconds.
func TestRetryPublishesQueuedBeforeStart(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.Concurrency = 1
	cfg.RetryBase, cfg.RetryMax = time.Hour, time.Hour // the back-off never ends by itself
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	f.srv.FailNext(1, ziplinetest.Failure{Path: "/api/upload"}) // 503: retried later
	p, _ := f.write(t, "shot.png", 2000)
	it, _, err := e.Add(p, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.wait(t, 10*time.Second, "the failure", func(evs []Event) bool { return countType(evs, EventFailed) == 1 })
	before := len(r.snapshot())

	// Hold the database's write lock: Retry's disk write waits for it.
	held, release := make(chan struct{}), make(chan struct{})
	dbDone := make(chan error, 1)
	go func() {
		dbDone <- e.st.db.Update(func(*bolt.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	released := false
	unhold := func() {
		if !released {
			released = true
			close(release)
			if err := <-dbDone; err != nil {
				t.Error(err)
			}
		}
	}
	defer unhold()

	retried := make(chan error, 1)
	go func() { retried <- e.Retry(it.ID) }()
	// Retry has marked it queued in memory (it is blocked on the disk now).
	// Watched through the events only: e.Item falls back to the store once
	// the item is uploaded and dropped from memory, and the store waits
	// behind a fold that waits for the write lock held above.
	wtWait(t, 5*time.Second, "Retry to mark the item queued", func() bool {
		for _, ev := range r.snapshot()[before:] {
			if ev.Item == it.ID && (ev.Type == EventQueued || ev.Type == EventStarted || ev.Type == EventUploaded) {
				return true
			}
		}
		return false
	})
	e.kick() // anything waking the dispatcher (another file, a worker finishing) does this

	// Whichever of "queued" and "uploaded" comes first for the item.
	var first EventType
	r.wait(t, 10*time.Second, "queued or uploaded", func(evs []Event) bool {
		for _, ev := range evs[before:] {
			if ev.Item == it.ID && (ev.Type == EventQueued || ev.Type == EventUploaded) {
				first = ev.Type
				return true
			}
		}
		return false
	})
	unhold()
	if err := <-retried; err != nil {
		t.Fatal(err)
	}
	r.wait(t, 10*time.Second, "the upload", func(evs []Event) bool { return countType(evs, EventUploaded) == 1 })
	if first != EventQueued {
		var seq []EventType
		for _, ev := range r.snapshot()[before:] {
			if ev.Item == it.ID {
				seq = append(seq, ev.Type)
			}
		}
		t.Fatalf("retried item: %q published before %q; its events: %v", first, EventQueued, seq)
	}
}
