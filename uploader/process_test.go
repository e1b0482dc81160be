package uploader

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// The test binary re-executes itself as a separate process in these modes:
//
//	ZT_HELPER=watch  owns the queue in ZT_STATE and watches ZT_DIR, uploading
//	                 to ZT_SERVER with ZT_TOKEN; prints "ready" then one JSON
//	                 event per line.
//	ZT_HELPER=queue  asks for the queue (Do) with a 1 s deadline and prints
//	                 the JSON answer, or "error: ..." and exits 1.
func TestMain(m *testing.M) {
	if mode := os.Getenv("ZT_HELPER"); mode != "" {
		os.Exit(helperMain(mode))
	}
	os.Exit(m.Run())
}

func helperMain(mode string) int {
	state := os.Getenv("ZT_STATE")
	switch mode {
	case "queue":
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		resp, err := Do(ctx, state, nil, Request{Op: OpQueue})
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		json.NewEncoder(os.Stdout).Encode(resp)
		return 0
	case "watch":
		creds := &testCreds{server: os.Getenv("ZT_SERVER"), token: os.Getenv("ZT_TOKEN")}
		e, err := Open(Config{
			StateDir: state, Credentials: creds, Concurrency: 2, OneFilePerRequest: os.Getenv("ZT_ONE") != "",
			RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		ch, _ := e.Subscribe()
		go func() {
			enc := json.NewEncoder(os.Stdout)
			for ev := range ch {
				if ev.Type != EventProgress {
					enc.Encode(ev)
				}
			}
		}()
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		done := make(chan error, 1)
		go func() {
			done <- e.Watch(ctx, AutoConfig{Folders: []WatchFolder{{Path: os.Getenv("ZT_DIR")}}, CatchUp: true})
		}()
		if !waitWatching(e, 10*time.Second) {
			fmt.Println("error: the folder is not being watched")
			return 1
		}
		fmt.Println("ready")
		err = <-done
		e.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "watch:", err)
			return 1
		}
		return 0
	}
	return 2
}

// waitWatching waits until every folder of e's Watch is being watched.
func waitWatching(e *Engine, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		st := e.WatcherStatus()
		ok := len(st) > 0
		for _, f := range st {
			ok = ok && f.State == FolderWatching
		}
		if ok {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func helperCmd(t *testing.T, mode string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"ZT_HELPER=" + mode}, env...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// startWatcher starts a helper process that owns the queue and returns it
// once it says it is ready.
func startWatcher(t *testing.T, f *fixture, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := helperCmd(t, "watch", append([]string{"ZT_STATE=" + f.state, "ZT_DIR=" + f.dir, "ZT_SERVER=" + f.srv.URL, "ZT_TOKEN=" + f.creds.token}, env...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	ready := make(chan string, 1)
	go func() {
		if sc.Scan() {
			ready <- sc.Text()
		}
		close(ready)
	}()
	select {
	case line := <-ready:
		if line != "ready" {
			t.Fatalf("helper said %q", line)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("helper process did not start")
	}
	go io.Copy(io.Discard, out)
	return cmd, sc
}

// A second process asking for the queue while another owns it gets its
// answer within its 1 s deadline.
func TestSecondProcessGetsQueue(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.Down() // items stay queued
	cfg := f.config()
	cfg.RetryBase = time.Hour
	e := f.open(t, cfg)
	for i := range 3 {
		p, _ := f.write(t, fmt.Sprintf("p%d.png", i), 10)
		e.Add(p, AddOptions{})
	}
	cmd := helperCmd(t, "queue", "ZT_STATE="+f.state)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("second process: %v: %s", err, out)
	}
	var resp Response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer %q: %v", out, err)
	}
	if len(resp.Items) != 3 || resp.PID != os.Getpid() {
		t.Errorf("second process got %d items from pid %d, want 3 from %d", len(resp.Items), resp.PID, os.Getpid())
	}

	// With the owner gone, the second process reads the queue itself.
	e.Close()
	out, err = helperCmd(t, "queue", "ZT_STATE="+f.state).Output()
	if err != nil {
		t.Fatalf("second process without owner: %v: %s", err, out)
	}
	resp = Response{}
	json.Unmarshal(out, &resp)
	if len(resp.Items) != 3 {
		t.Errorf("offline queue has %d items, want 3", len(resp.Items))
	}
}

// SIGKILL in the middle of a queue of 100: after a restart every file is
// on the server. A file can be uploaded twice only if its upload was in
// flight at the kill: still running or finished but its link not yet on
// disk. The engine keeps those requests under 2×Concurrency; a request
// carries up to maxGroup files, or one with OneFilePerRequest. So at most
// 32 duplicates, or 4.
func TestKilledMidQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	const concurrency = 2
	t.Run("grouped", func(t *testing.T) { testKilledMidQueue(t, 2*concurrency*maxGroup) })
	t.Run("one-per-request", func(t *testing.T) { testKilledMidQueue(t, 2*concurrency, "ZT_ONE=1") })
}

func testKilledMidQueue(t *testing.T, bound int, env ...string) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.srv.SetDelay("/api/upload", 15*time.Millisecond)
	cmd, _ := startWatcher(t, f, env...)

	const n = 100
	sums := map[string]string{}
	for i := range n {
		p, sum := f.write(t, fmt.Sprintf("k%03d.png", i), 2000+i)
		sums[p] = sum
	}
	testutil.WaitFor(t, 30*time.Second, "30 uploads before the kill", func() bool { return len(f.srv.Files()) >= 30 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	atKill := len(f.srv.Files())
	t.Logf("killed after %d of %d uploads", atKill, n)
	if atKill >= n {
		t.Fatal("all files were uploaded before the kill; the test proves nothing")
	}

	// Restart (in this process) with catch-up: files the killed process had
	// not even queued are found by the catch-up scan.
	f.srv.SetDelay("/api/upload", 0)
	e := f.open(t, f.config())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Watch(ctx, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}, CatchUp: true}) }()
	t.Cleanup(func() { cancel(); <-done })
	testutil.WaitFor(t, 60*time.Second, "every file on the server", func() bool {
		c := f.serverCounts()
		for _, sum := range sums {
			if c[sum] == 0 {
				return false
			}
		}
		return true
	})
	testutil.WaitFor(t, 10*time.Second, "queue drained", func() bool { return len(e.Queue()) == 0 })
	dups := 0
	c := f.serverCounts()
	for p, sum := range sums {
		if c[sum] > 1 {
			dups += c[sum] - 1
			t.Logf("uploaded %d times (in flight at the kill): %s", c[sum], p)
		}
	}
	if dups > bound {
		t.Errorf("%d duplicate uploads, want at most %d (uploads in flight at the kill)", dups, bound)
	}
	if extra := len(f.srv.Files()) - n - dups; extra != 0 {
		t.Errorf("server has %d unexpected files", extra)
	}
	t.Logf("%d duplicates (bound %d)", dups, bound)
}
