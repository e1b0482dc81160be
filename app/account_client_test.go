package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/uploader"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// The account id of each upload is "asked once per sign-in"
// (Client.UserID caches it per Client). The tray gives the engine
// AuthAccount (gui.go: Credentials: account), whose Client builds a new
// zipline.Client on every call, so the cache never holds: every tray
// upload waits for one more GET /api/user — an answer that carries the
// user's TOTP secret, sessions and OAuth tokens — before its link is
// recorded and copied.
func TestTrayAsksAccountOncePerSignIn(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	t.Cleanup(srv.Close)
	srv.AddUser("alice", "correct horse", ziplinetest.RoleAdmin)
	tok, err := srv.IssueToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	acct := NewAuthAccount(filepath.Join(dir, "config.json"), auth.NewMemoryStore())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := acct.SignInToken(ctx, srv.URL, tok, false); err != nil {
		t.Fatal(err)
	}
	e, err := uploader.Open(uploader.Config{StateDir: filepath.Join(dir, "state"), Credentials: acct, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })

	askedBefore := userRequests(srv)
	ch, stop := e.Subscribe()
	var mu sync.Mutex
	uploaded := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			if ev.Type == uploader.EventUploaded {
				mu.Lock()
				uploaded++
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { stop(); <-done })
	const n = 3
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("shot%d.png", i))
		if err := os.WriteFile(p, []byte(fmt.Sprintf("screenshot %d", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.Add(p, uploader.AddOptions{Source: uploader.SourceUser, Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, 15*time.Second, "the uploads", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return uploaded == n
	})
	h, err := e.History(0)
	if err != nil || len(h) != n || h[0].User == "" {
		t.Fatalf("history: %v, %+v", err, h)
	}
	if asked := userRequests(srv) - askedBefore; asked > 1 {
		t.Errorf("%d uploads by one sign-in sent GET /api/user %d times (want at most once: UserID is meant to be asked once per sign-in)", n, asked)
	}
}

func userRequests(srv *ziplinetest.Server) int {
	k := 0
	for _, r := range srv.Requests() {
		if r.Method == "GET" && r.Path == "/api/user" {
			k++
		}
	}
	return k
}
