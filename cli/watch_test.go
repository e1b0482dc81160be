package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/uploader"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// watchRun runs `zipline-tray watch ARGS` in the background until stop.
type watchRun struct {
	out, errOut *testutil.Buffer
	cancel      context.CancelFunc
	done        chan int

	mu     sync.Mutex
	copied []string
}

func startWatch(t *testing.T, s *signedIn, args ...string) *watchRun {
	t.Helper()
	w := &watchRun{out: &testutil.Buffer{}, errOut: &testutil.Buffer{}, done: make(chan int, 1)}
	s.Stdout, s.Stderr = w.out, w.errOut
	s.Clipboard = func(_ context.Context, text string) error {
		w.mu.Lock()
		w.copied = append(w.copied, text)
		w.mu.Unlock()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() { w.done <- Run(ctx, s.Env, append([]string{"watch"}, args...)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.done:
		case <-time.After(20 * time.Second):
			t.Error("watch did not stop")
		}
	})
	// Ready once the folder is watched (the log line comes from the watcher).
	testutil.WaitFor(t, 10*time.Second, "watch to start", func() bool {
		return strings.Contains(w.errOut.String(), "state=watching")
	})
	return w
}

// stop is what SIGINT does in Main: the context ends.
func (w *watchRun) stop(t *testing.T) int {
	t.Helper()
	w.cancel()
	select {
	case code := <-w.done:
		w.done <- code
		return code
	case <-time.After(20 * time.Second):
		t.Fatal("watch did not stop")
	}
	return -1
}

func (w *watchRun) events(t *testing.T) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(w.out.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func (w *watchRun) uploaded(t *testing.T, path string) string {
	for _, ev := range w.events(t) {
		if ev["event"] == "uploaded" && ev["path"] == path {
			return ev["url"].(string)
		}
	}
	return ""
}

func TestWatchJSONUploadsAndStopsCleanly(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	dir := t.TempDir()
	w := startWatch(t, s, "--json", dir)
	p := filepath.Join(dir, "shot.png")
	if err := os.WriteFile(p, []byte("pixels"), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "uploaded event", func() bool { return w.uploaded(t, p) != "" })
	url := w.uploaded(t, p)
	if f, ok := s.srv.FileByName(filepath.Base(url)); !ok || f.Size != 6 {
		t.Errorf("server file for %s: %+v, %v", url, f, ok)
	}
	testutil.WaitFor(t, 5*time.Second, "link on the clipboard", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.copied) > 0 && w.copied[len(w.copied)-1] == url
	})
	if code := w.stop(t); code != ExitOK {
		t.Fatalf("watch exit %d after Ctrl-C, want 0; stderr:\n%s", code, w.errOut)
	}

	// The upload is in the history, for a later process.
	s.Stdout = &testutil.Buffer{}
	if code := s.run("history", "--json"); code != ExitOK {
		t.Fatalf("history exit %d: %s", code, s.Stderr)
	}
	var h []uploader.HistoryEntry
	if err := json.Unmarshal([]byte(s.Stdout.(*testutil.Buffer).String()), &h); err != nil || len(h) != 1 || h[0].URL != url {
		t.Fatalf("history = %+v, %v", h, err)
	}
	// history delete removes it on the server too.
	s.Stdout = &testutil.Buffer{}
	if code := s.run("history", "delete", "1"); code != ExitOK {
		t.Fatalf("history delete exit %d: %s", code, s.Stderr)
	}
	if n := len(s.srv.Files()); n != 0 {
		t.Errorf("server still has %d files", n)
	}
}

// A rejected token pauses the watcher, which tells the user to sign in in
// another terminal; a login elsewhere (the reload request) resumes it.
func TestWatchPausesOn401AndResumesAfterLogin(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	dir := t.TempDir()
	w := startWatch(t, s, dir)
	if err := s.srv.ResetToken("alice"); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "after-reset.png")
	os.WriteFile(p, []byte("pixels"), 0o644)
	testutil.WaitFor(t, 20*time.Second, "the sign-in message", func() bool {
		return strings.Contains(w.errOut.String(), "zipline-tray login")
	})
	if strings.Count(w.errOut.String(), "rejected the saved token") != 1 {
		t.Errorf("want the message once; stderr:\n%s", w.errOut)
	}
	// `zipline-tray login` in another terminal saves a new token and tells
	// the running watcher.
	tok, err := s.srv.IssueToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	login := newTestEnv(t, tok+"\n", nil)
	login.Paths, login.Store = s.Paths, s.store
	if code := login.run("login", "--token-stdin", s.srv.URL); code != ExitOK {
		t.Fatalf("login exit %d: %s", code, login.err)
	}
	if !strings.Contains(login.out.String(), "running zipline-tray now uses this sign-in") {
		t.Errorf("login did not reach the running watcher: %s", login.out)
	}
	testutil.WaitFor(t, 20*time.Second, "upload after login", func() bool {
		return strings.Contains(w.out.String(), "uploaded   after-reset.png")
	})
	if code := w.stop(t); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
}

// queue, retry and cancel while watch runs go through it and answer within
// their deadline; a second watch says who owns the queue.
func TestQueueCommandsWhileWatching(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	s.srv.SetDelay("/api/upload", 30*time.Second) // uploads hang: items stay in the queue
	// One file per request: two uploads hang and the third waits in the
	// queue (grouped, it would ride in the first request, and a cancel
	// after the body is sent waits for the server's answer).
	cfg, err := auth.LoadConfig(s.Paths.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Watch.OneFilePerRequest = true
	if err := cfg.Save(s.Paths.ConfigFile()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := startWatch(t, s, dir)
	for _, n := range []string{"a.png", "b.png", "c.png"} {
		os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644)
	}
	testutil.WaitFor(t, 20*time.Second, "three queued", func() bool { return strings.Count(w.out.String(), "queued ") == 3 })

	other := newTestEnv(t, "", nil)
	other.Paths = s.Paths
	other.Store = s.store
	out := &testutil.Buffer{}
	other.Stdout = out
	if code := other.run("queue", "--json"); code != ExitOK {
		t.Fatalf("queue exit %d: %s", code, other.err)
	}
	var items []uploader.Item
	if err := json.Unmarshal([]byte(out.String()), &items); err != nil || len(items) != 3 {
		t.Fatalf("queue = %s (%v)", out, err)
	}
	if code := other.run("cancel", items[2].ID.String()); code != ExitOK {
		t.Fatalf("cancel exit %d: %s", code, other.err)
	}
	testutil.WaitFor(t, 10*time.Second, "cancelled", func() bool {
		return strings.Contains(w.out.String(), "cancelled  "+filepath.Base(items[2].Path))
	})

	// A second watch on the same state folder refuses, naming the owner.
	second := newTestEnv(t, "", nil)
	second.Paths = s.Paths
	if code := second.run("watch", dir); code != ExitFailure {
		t.Errorf("second watch exit %d, want %d", code, ExitFailure)
	}
	if !strings.Contains(second.err.String(), "already watching") {
		t.Errorf("second watch said: %s", second.err)
	}
	s.srv.SetDelay("/api/upload", 0)
	w.stop(t)
}
