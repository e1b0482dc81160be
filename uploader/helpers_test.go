package uploader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// testCreds hands out a client for the fake server; the token can change.
type testCreds struct {
	mu     sync.Mutex
	server string
	token  string
	client *zipline.Client
}

func (c *testCreds) Client(ctx context.Context) (*zipline.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		cl, err := zipline.NewClient(zipline.Options{Server: c.server, Token: c.token})
		if err != nil {
			return nil, err
		}
		c.client = cl
	}
	return c.client, nil
}

func (c *testCreds) setToken(tok string) {
	c.mu.Lock()
	c.token, c.client = tok, nil
	c.mu.Unlock()
}

// memClipboard records what was copied.
type memClipboard struct {
	mu   sync.Mutex
	text string
	sets int
}

func (m *memClipboard) SetText(s string) error {
	m.mu.Lock()
	m.text = s
	m.sets++
	m.mu.Unlock()
	return nil
}

func (m *memClipboard) get() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.text
}

// fixture is a fake server with one user, a state folder and a watched folder.
type fixture struct {
	srv   *ziplinetest.Server
	user  string
	creds *testCreds
	state string
	dir   string
	clip  *memClipboard
}

// newFixture starts the fake server. admin users are not rate limited.
func newFixture(t testing.TB, role ziplinetest.Role) *fixture {
	t.Helper()
	return newFixtureWith(t, role, ziplinetest.Config{})
}

// newFixtureWith starts the fake server with cfg.
func newFixtureWith(t testing.TB, role ziplinetest.Role, cfg ziplinetest.Config) *fixture {
	t.Helper()
	srv := ziplinetest.NewServer(cfg)
	t.Cleanup(srv.Close)
	srv.AddUser("alice", "password1", role)
	tok, err := srv.IssueToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	f := &fixture{
		srv: srv, user: "alice", creds: &testCreds{server: srv.URL, token: tok},
		state: filepath.Join(root, "state"), dir: filepath.Join(root, "shots"), clip: &memClipboard{},
	}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) config() Config {
	return Config{
		StateDir: f.state, Credentials: f.creds, Concurrency: 2, CopyLinks: true, Clipboard: f.clip,
		RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
	}
}

func (f *fixture) open(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// write creates a file with unique content and returns its path and sha256.
func (f *fixture) write(t testing.TB, name string, size int) (string, string) {
	t.Helper()
	data := make([]byte, size)
	copy(data, fmt.Sprintf("%s %d %d ", name, size, time.Now().UnixNano()))
	for i := 64; i < size; i++ {
		data[i] = byte(i*7 + len(name))
	}
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return p, hex.EncodeToString(sum[:])
}

// serverCounts maps sha256 to how many times the fake received it, counting
// complete files only.
func (f *fixture) serverCounts() map[string]int {
	m := map[string]int{}
	for _, file := range f.srv.Files() {
		if file.Complete || !file.Chunked {
			m[file.SHA256]++
		}
	}
	return m
}

// uploadRequests are the POST /api/upload requests the fake received.
func (f *fixture) uploadRequests() []ziplinetest.Request {
	var out []ziplinetest.Request
	for _, r := range f.srv.Requests() {
		if r.Method == "POST" && r.Path == "/api/upload" {
			out = append(out, r)
		}
	}
	return out
}

// recorder keeps every event of an engine, and lets a test wait for a
// condition on them without sleeping.
type recorder struct {
	mu     sync.Mutex
	events []Event
	change chan struct{}
}

func recordEvents(t testing.TB, e *Engine) *recorder {
	ch, stop := e.Subscribe()
	r := &recorder{change: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			r.mu.Lock()
			r.events = append(r.events, ev)
			close(r.change)
			r.change = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { stop(); <-done })
	return r
}

// drain returns the events after every one e published so far has
// reached r: a marker published now arrives after them.
func (r *recorder) drain(t testing.TB, e *Engine) []Event {
	t.Helper()
	mark := fmt.Sprint("drain ", time.Now().UnixNano())
	e.ev.publish(Event{Type: EventResumed, Reason: mark})
	r.wait(t, 10*time.Second, "the events so far", func(evs []Event) bool {
		return slices.ContainsFunc(evs, func(ev Event) bool { return ev.Reason == mark })
	})
	return slices.DeleteFunc(r.snapshot(), func(ev Event) bool { return ev.Reason == mark })
}

func (r *recorder) snapshot() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *recorder) count(typ EventType) int {
	n := 0
	for _, e := range r.snapshot() {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// wait blocks until cond holds on the events so far, or fails the test at
// the deadline.
func (r *recorder) wait(t testing.TB, d time.Duration, what string, cond func([]Event) bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		evs := append([]Event(nil), r.events...)
		ch := r.change
		r.mu.Unlock()
		if cond(evs) {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s (%d events so far; last: %+v)", d, what, len(evs), lastEvents(evs, 5))
		}
	}
}

func lastEvents(evs []Event, n int) []Event {
	if len(evs) > n {
		return evs[len(evs)-n:]
	}
	return evs
}

// uploadedPaths counts uploaded events per path.
func uploadedPaths(evs []Event) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		if e.Type == EventUploaded {
			m[e.Path]++
		}
	}
	return m
}

func countType(evs []Event, typ EventType) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}
