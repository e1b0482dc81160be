package uploader

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// queueAll writes n files and queues them in one batch, as the watcher
// does with a burst; it returns their sums by path, in order.
func queueAll(t *testing.T, f *fixture, e *Engine, prefix string, n, size int) ([]string, map[string]string) {
	t.Helper()
	sums := map[string]string{}
	var paths []string
	var reqs []addReq
	for i := range n {
		p, sum := f.write(t, fmt.Sprintf("%s%02d.png", prefix, i), size+i)
		sums[p] = sum
		paths = append(paths, p)
		reqs = append(reqs, addReq{path: p, o: AddOptions{Source: SourceWatch}})
	}
	for i, r := range e.addMany(reqs) {
		if r.err != nil || !r.added {
			t.Fatalf("queue %s: added %v, %v", reqs[i].path, r.added, r.err)
		}
	}
	return paths, sums
}

// checkLinks fails unless every path was announced once with the link of
// the server file holding its bytes (a group's answer is matched to its
// files in order), and the server has each content once.
func checkLinks(t *testing.T, f *fixture, r *recorder, sums map[string]string) {
	t.Helper()
	checkAnnounced(t, f, r, sums)
	for sum, c := range f.serverCounts() {
		if c != 1 {
			t.Errorf("content %s.. on the server %d times", sum[:8], c)
		}
	}
}

// checkAnnounced is checkLinks without the server's counts.
func checkAnnounced(t *testing.T, f *fixture, r *recorder, sums map[string]string) {
	t.Helper()
	byID := map[string]ziplinetest.File{}
	for _, file := range f.srv.Files() {
		byID[file.ID] = file
	}
	seen := map[string]int{}
	for _, ev := range r.snapshot() {
		if ev.Type != EventUploaded {
			continue
		}
		seen[ev.Path]++
		file, ok := byID[ev.FileID]
		if !ok {
			t.Errorf("%s: link to file %q the server does not have", ev.Path, ev.FileID)
			continue
		}
		if file.SHA256 != sums[ev.Path] {
			t.Errorf("%s got the link of %s, another file's", ev.Path, file.Filename)
		}
		if !strings.Contains(ev.URL, file.Name) {
			t.Errorf("%s: link %s, want the one to %s", ev.Path, ev.URL, file.Name)
		}
	}
	for p := range sums {
		if seen[p] != 1 {
			t.Errorf("%s announced %d times, want once", p, seen[p])
		}
	}
}

// oneWorker opens an engine with one worker, its events recorded.
func oneWorker(t *testing.T, f *fixture) (*Engine, *recorder) {
	cfg := f.config()
	cfg.Concurrency = 1
	e := f.open(t, cfg)
	return e, recordEvents(t, e)
}

// A burst goes up in fewer requests than files, each file once, each link
// its own file's.
func TestGroupBurst(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.SetDelay("/api/upload", 20*time.Millisecond)
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	const n = 40
	_, sums := queueAll(t, f, e, "g", n, 3000)
	r.wait(t, 30*time.Second, "all uploads", func(evs []Event) bool { return countType(evs, EventUploaded) == n })
	checkLinks(t, f, r, sums)
	reqs := f.uploadRequests()
	if len(reqs) >= n || len(reqs) < n/maxGroup {
		t.Errorf("%d upload requests for %d files, want fewer (at most %d files each)", len(reqs), n, maxGroup)
	}
	if got := len(f.srv.Files()); got != n {
		t.Errorf("server has %d files, want %d", got, n)
	}
	t.Logf("%d files in %d requests", n, len(reqs))
}

// OneFilePerRequest sends each file on its own.
func TestGroupOff(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.SetDelay("/api/upload", 20*time.Millisecond)
	cfg := f.config()
	cfg.OneFilePerRequest = true
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	const n = 12
	_, sums := queueAll(t, f, e, "o", n, 3000)
	r.wait(t, 30*time.Second, "all uploads", func(evs []Event) bool { return countType(evs, EventUploaded) == n })
	checkLinks(t, f, r, sums)
	if got := len(f.uploadRequests()); got != n {
		t.Errorf("%d upload requests for %d files, want one each", got, n)
	}
}

// A non-admin limited to 2 requests per window gets a burst of 24 through
// in a few requests, not 12 windows.
func TestGroupRateLimited(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleUser)
	f.srv.SetUploadRateLimit(ziplinetest.RateLimit{Max: 2, Window: time.Second})
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	const n = 24
	_, sums := queueAll(t, f, e, "rl", n, 2000)
	r.wait(t, 60*time.Second, "all uploads", func(evs []Event) bool { return countType(evs, EventUploaded) == n })
	checkLinks(t, f, r, sums)
	var ok, limited int
	for _, rq := range f.uploadRequests() {
		switch rq.Status {
		case 200:
			ok++
		case 429:
			limited++
		}
	}
	if ok > n/2 {
		t.Errorf("%d successful requests for %d files: not grouped", ok, n)
	}
	t.Logf("%d files in %d requests, %d answered 429", n, ok, limited)
}

// The server refusing a group (here a file-count quota that fits 5 of 8)
// sends its files one by one: those that fit go up, the rest fail with the
// server's own message.
func TestGroupRefusedGoesOneByOne(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	if err := f.srv.SetQuota(f.user, &ziplinetest.Quota{MaxFiles: 5}); err != nil {
		t.Fatal(err)
	}
	e, r := oneWorker(t, f)
	const n = 8
	queueAll(t, f, e, "qq", n, 1000)
	r.wait(t, 30*time.Second, "5 uploads and 3 permanent failures", func(evs []Event) bool {
		failed := 0
		for _, ev := range evs {
			if ev.Type == EventFailed && !ev.Retrying {
				failed++
			}
		}
		return countType(evs, EventUploaded) == 5 && failed == 3
	})
	for _, it := range e.Queue() {
		if it.State != StateFailed || !strings.Contains(it.Reason, "quota") {
			t.Errorf("%s: %s %q, want failed with the server's quota message", it.Path, it.State, it.Reason)
		}
	}
	reqs := f.uploadRequests()
	if len(reqs) == 0 || reqs[0].Status == 200 {
		t.Fatalf("the first request was not a refused group: %+v", reqs)
	}
	if len(reqs) != 1+n {
		t.Errorf("%d upload requests, want the group then %d one by one", len(reqs), n)
	}
}

// A proxy's body limit (413) makes the engine send the group's files one
// by one and later groups smaller; every file gets through once.
func TestGroupProxyLimit(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.SetProxyLimit(5000)
	e, r := oneWorker(t, f)
	_, sums := queueAll(t, f, e, "px", 8, 1500)
	r.wait(t, 30*time.Second, "8 uploads", func(evs []Event) bool { return countType(evs, EventUploaded) == 8 })
	_, more := queueAll(t, f, e, "py", 8, 1500)
	for p, s := range more {
		sums[p] = s
	}
	r.wait(t, 30*time.Second, "16 uploads", func(evs []Event) bool { return countType(evs, EventUploaded) == 16 })
	checkLinks(t, f, r, sums)
	refused := 0
	for _, rq := range f.uploadRequests() {
		if rq.Status == 413 {
			refused++
		}
	}
	e.mu.Lock()
	most := e.groupMax
	e.mu.Unlock()
	if most > 5000 {
		t.Errorf("groups still up to %d bytes after a 413 at 5000", most)
	}
	if refused == 0 || refused > 3 {
		t.Errorf("%d requests refused with 413, want 1 to 3 (each halves the groups)", refused)
	}
}

// A file deleted while queued behind a running upload is skipped when its
// group forms; the rest of the group goes up in one request.
func TestGroupMemberDeleted(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.SetDelay("/api/upload", 30*time.Second)
	e, r := oneWorker(t, f)
	first, _ := f.write(t, "first.png", 500)
	it, _, err := e.Add(first, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the first request", func() bool { return f.srv.InFlight() == 1 })
	paths, sums := queueAll(t, f, e, "md", 4, 1000)
	if err := os.Remove(paths[1]); err != nil {
		t.Fatal(err)
	}
	delete(sums, paths[1])
	f.srv.SetDelay("/api/upload", 0)
	if err := e.Cancel(it.ID); err != nil { // frees the worker
		t.Fatal(err)
	}
	r.wait(t, 10*time.Second, "3 uploads and a skip", func(evs []Event) bool {
		return countType(evs, EventUploaded) == 3 && countType(evs, EventSkipped) == 1
	})
	for _, ev := range r.snapshot() {
		if ev.Type == EventSkipped && (ev.Path != paths[1] || !strings.Contains(ev.Reason, "deleted")) {
			t.Errorf("skipped %s (%s), want %s as deleted", ev.Path, ev.Reason, paths[1])
		}
	}
	checkLinks(t, f, r, sums)
	ok := 0
	for _, rq := range f.uploadRequests() {
		if rq.Status == 200 {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d successful upload requests, want the three files in one", ok)
	}
}

// A group's progress is reported per file, in the order the parts go.
func TestGroupProgress(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	var ps []prepared
	for i, size := range []int64{100, 200, 300} {
		ps = append(ps, prepared{it: Item{ID: ItemID(100 + i), Path: fmt.Sprint("p", i), Size: size}})
	}
	p := e.groupProgress(ps, 0)
	for _, sent := range []int64{50, 250, 250, 600} {
		p(sent, 600)
	}
	e.ev.publish(Event{Type: EventResumed, Reason: "end of test"}) // after every progress event
	var got []string
	r.wait(t, 5*time.Second, "the end marker", func(evs []Event) bool { return countType(evs, EventResumed) == 1 })
	for _, ev := range r.snapshot() {
		if ev.Type == EventProgress {
			got = append(got, fmt.Sprintf("%s %d/%d", ev.Path, ev.Sent, ev.Total))
		}
	}
	want := []string{"p0 50/100", "p0 100/100", "p1 150/200", "p1 200/200", "p2 300/300"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("progress %v, want %v", got, want)
	}
}

// A group answered for fewer files than were sent (which did the server
// keep?) is not sent again as a group, which would store the kept ones
// again at every retry: its files go one by one, once.
func TestGroupShortAnswer(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	target, err := url.Parse(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var cut atomic.Int32
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != "/api/upload" || resp.StatusCode != 200 {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return err
		}
		if files, _ := m["files"].([]any); len(files) > 1 {
			m["files"] = files[:len(files)-1]
			cut.Add(1)
		}
		body, _ = json.Marshal(m)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)
	f.creds.server = proxy.URL
	e, r := oneWorker(t, f)
	const n = 8
	_, sums := queueAll(t, f, e, "sa", n, 1000)
	r.wait(t, 30*time.Second, "all uploads", func(evs []Event) bool { return countType(evs, EventUploaded) == n })
	checkAnnounced(t, f, r, sums)
	if cut.Load() != 1 {
		t.Errorf("%d answers cut short, want the group's one", cut.Load())
	}
	if got := len(f.uploadRequests()); got != 1+n {
		t.Errorf("%d upload requests, want the group and then %d one by one", got, n)
	}
}

// Two files with the same bytes in one group: sent once; with ReuseLinks
// the other gets the same link.
func TestGroupSameContent(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.Concurrency = 1
	cfg.ReuseLinks = true
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	a, sum := f.write(t, "twin-a.png", 1200)
	data, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	b := a[:len(a)-len("twin-a.png")] + "twin-b.png"
	if err := os.WriteFile(b, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := f.write(t, "other.png", 1300)
	var reqs []addReq
	for _, p := range []string{a, b, c} {
		reqs = append(reqs, addReq{path: p, o: AddOptions{Source: SourceWatch}})
	}
	e.addMany(reqs)
	r.wait(t, 10*time.Second, "3 links", func(evs []Event) bool { return countType(evs, EventUploaded) == 3 })
	links := map[string]Event{}
	for _, ev := range r.snapshot() {
		if ev.Type == EventUploaded {
			links[ev.Path] = ev
		}
	}
	if links[a].URL == "" || links[a].URL != links[b].URL || !links[b].Reused {
		t.Errorf("twins got %q and %q (reused %v), want one link, reused for the second", links[a].URL, links[b].URL, links[b].Reused)
	}
	if n := f.serverCounts()[sum]; n != 1 {
		t.Errorf("the twins' content is on the server %d times, want once", n)
	}
	if got := len(f.uploadRequests()); got != 1 {
		t.Errorf("%d upload requests, want one group", got)
	}
}
