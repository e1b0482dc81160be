package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/uploader"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// "history delete ID" when the server rejects the saved token must exit 3
// ("sign in again", as `zipline-tray help` documents) and tell the user to
// run zipline-tray login, like every other command that meets a 401.
func TestHistoryDeleteRejectedTokenExitsSignIn(t *testing.T) {
	for _, owner := range []bool{false, true} {
		name := "nothing running"
		if owner {
			name = "watch running"
		}
		t.Run(name, func(t *testing.T) {
			s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			h := uploader.HistoryEntry{
				Name: "shot.png", URL: s.srv.URL + "/u/shot.png", FileID: "someid", Server: s.srv.URL,
				Size: 6, Time: time.Now(),
			}
			if err := uploader.RecordUpload(ctx, s.Paths.StateDir, h); err != nil {
				t.Fatal(err)
			}
			if owner {
				w := startWatch(t, s, t.TempDir())
				defer w.stop(t)
				if _, err := uploader.Call(ctx, s.Paths.StateDir, uploader.Request{Op: uploader.OpPing}); err != nil {
					t.Fatalf("the watcher does not own the queue: %v", err)
				}
			}
			// The token is revoked on the server (reset in the web UI).
			if err := s.srv.ResetToken("alice"); err != nil {
				t.Fatal(err)
			}
			other := newTestEnv(t, "", nil)
			other.Paths, other.Store = s.Paths, s.store
			code := other.run("history", "delete", "1")
			if code != ExitSignIn || !strings.Contains(other.err.String(), "zipline-tray login") {
				t.Errorf("history delete with a rejected token: exit %d, want %d (sign in again); stderr: %q",
					code, ExitSignIn, other.err.String())
			}
			// Nothing is lost: the entry is still listed.
			other.out.Reset()
			if code := other.run("history"); code != ExitOK || !strings.Contains(other.out.String(), "shot.png") {
				t.Errorf("history after the failed delete: exit %d, %q", code, other.out.String())
			}
		})
	}
}

// gatedWriter is a stdout whose reader is slow: writes wait until open is
// closed (a `watch --json | consumer` pipe whose consumer is busy).
type gatedWriter struct {
	open chan struct{}
	testutil.Buffer
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	<-g.open
	return g.Buffer.Write(p)
}

// Every event `watch --json` published before Ctrl-C is printed, even when
// the reader of stdout is behind: a script collecting the NDJSON must not
// miss files (here: "queued" lines) because it was slow at shutdown.
func TestWatchJSONPrintsEveryEventAfterInterrupt(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	s.srv.SetDelay("/api/upload", 60*time.Second) // uploads hang: items stay queued
	dir := t.TempDir()
	out := &gatedWriter{open: make(chan struct{})}
	errOut := &testutil.Buffer{}
	s.Stdout, s.Stderr = out, errOut
	s.Clipboard = func(context.Context, string) error { return nil }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- Run(ctx, s.Env, []string{"watch", "--json", dir}) }()
	opened := false
	defer func() {
		if !opened {
			close(out.open)
		}
	}()
	testutil.WaitFor(t, 10*time.Second, "watch to start", func() bool {
		return strings.Contains(errOut.String(), "state=watching")
	})

	const n = 80
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("shot%02d.png", i)), []byte(fmt.Sprint("pixels ", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// All n are recorded in the queue (so their "queued" events are published).
	testutil.WaitFor(t, 15*time.Second, fmt.Sprintf("%d files in the queue", n), func() bool {
		c, cc := context.WithTimeout(context.Background(), 2*time.Second)
		defer cc()
		resp, err := uploader.Do(c, s.Paths.StateDir, nil, uploader.Request{Op: uploader.OpQueue})
		return err == nil && len(resp.Items) == n
	})

	cancel() // Ctrl-C
	// The watcher has closed the queue (it answers offline requests now).
	testutil.WaitFor(t, 15*time.Second, "the watcher to close the queue", func() bool {
		c, cc := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cc()
		resp, err := uploader.Do(c, s.Paths.StateDir, nil, uploader.Request{Op: uploader.OpQueue})
		return err == nil && resp.PID == 0
	})
	close(out.open) // the consumer catches up
	opened = true
	var code int
	select {
	case code = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("watch did not exit")
	}
	if code != ExitOK {
		t.Errorf("watch exit %d after Ctrl-C, want 0; stderr:\n%s", code, errOut)
	}
	queued := map[string]bool{}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		lines++
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("stdout line %d is not JSON: %q", lines, sc.Text())
		}
		if ev["event"] == "queued" {
			queued[fmt.Sprint(ev["path"])] = true
		}
	}
	if len(queued) != n {
		t.Errorf("stdout has \"queued\" lines for %d of the %d files the queue holds (%d lines in all): "+
			"events published before Ctrl-C were dropped when watch unsubscribed with the reader behind", len(queued), n, lines)
	}
}
