package app

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// realAccount is an AuthAccount on a temporary config file and an
// in-memory keyring.
func realAccount(t *testing.T) (*AuthAccount, *auth.MemoryStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	store := auth.NewMemoryStore()
	return NewAuthAccount(path, store), store, path
}

func TestSignInAgainstFakeServer(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	t.Cleanup(srv.Close)
	srv.AddUser("alice", "correct horse", ziplinetest.RoleUser)
	srv.AddUser("bob", "battery staple", ziplinetest.RoleUser)
	totp, err := srv.EnableTOTP("bob")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("password", func(t *testing.T) {
		acct, store, path := realAccount(t)
		h := newHarness(t, acct)
		s := h.ui.signIn
		test.Type(s.server, srv.URL)
		// The fake 4.6.3 does not tell its exact version: ">=4.4.2".
		h.loop.until(t, "server found", func() bool {
			return strings.HasPrefix(s.serverState.Text, "Zipline ") && strings.HasSuffix(s.serverState.Text, " found")
		})

		test.Type(s.username, "alice")
		test.Type(s.password, "wrong")
		test.Tap(s.passwordBtn)
		h.loop.until(t, "wrong password message", func() bool {
			return !s.working && strings.HasPrefix(s.errLabel.Text, "Wrong username or password")
		})
		if store.Len() != 0 {
			t.Fatal("a token was stored after a failed sign-in")
		}

		s.password.SetText("correct horse")
		test.Tap(s.passwordBtn)
		h.loop.until(t, "signed in", func() bool { return h.ui.user == "alice" })
		if tok, err := store.Get(srv.URL, "alice"); err != nil || tok == "" {
			t.Fatalf("keyring: %q, %v", tok, err)
		}
		cfg, err := auth.LoadConfig(path)
		if err != nil || cfg.Username != "alice" || cfg.Server != srv.URL {
			t.Fatalf("config: %+v, %v", cfg, err)
		}
		// The saved token works: the start-up check passes.
		h.ui.checkToken()
		h.loop.until(t, "token checked", func() bool { return !h.ui.checking })
		if h.ui.authFailed {
			t.Error("the fresh token was rejected")
		}
	})

	t.Run("totp", func(t *testing.T) {
		acct, store, _ := realAccount(t)
		h := newHarness(t, acct)
		s := h.ui.signIn
		test.Type(s.server, srv.URL)
		test.Type(s.username, "bob")
		test.Type(s.password, "battery staple")
		test.Tap(s.passwordBtn)
		h.loop.until(t, "code asked", s.totpBox.Visible)
		test.Type(s.totp, "000000")
		test.Tap(s.passwordBtn)
		h.loop.until(t, "wrong code", func() bool { return !s.working && strings.HasPrefix(s.errLabel.Text, "Wrong two-factor code") })
		s.totp.SetText(totp.Code())
		test.Tap(s.passwordBtn)
		h.loop.until(t, "signed in", func() bool { return h.ui.user == "bob" })
		if store.Len() != 1 {
			t.Errorf("keyring holds %d tokens", store.Len())
		}
	})

	t.Run("token", func(t *testing.T) {
		acct, store, _ := realAccount(t)
		h := newHarness(t, acct)
		s := h.ui.signIn
		s.tabs.SelectIndex(1)
		test.Type(s.server, srv.URL)
		test.Type(s.token, "not-a-token")
		test.Tap(s.tokenBtn)
		h.loop.until(t, "rejected", func() bool {
			return !s.working && strings.HasPrefix(s.errLabel.Text, "The server did not accept this token")
		})

		s.token.SetText("Bearer " + srv.User("alice").Token())
		test.Tap(s.tokenBtn)
		h.loop.until(t, "bearer message", func() bool { return !s.working && strings.Contains(s.errLabel.Text, "Bearer") })

		s.token.SetText("  " + srv.User("alice").Token() + "\n")
		test.Tap(s.tokenBtn)
		h.loop.until(t, "signed in", func() bool { return h.ui.user == "alice" })
		if store.Len() != 1 {
			t.Errorf("keyring holds %d tokens", store.Len())
		}
	})

	t.Run("rejected token at start", func(t *testing.T) {
		acct, _, _ := realAccount(t)
		if _, err := acct.SignInToken(t.Context(), srv.URL, srv.User("alice").Token(), false); err != nil {
			t.Fatal(err)
		}
		srv.SetCoreSecret("changed") // every token dies
		t.Cleanup(func() { srv.SetCoreSecret("") })
		h := newHarness(t, acct)
		h.loop.until(t, "sign in again", func() bool { return h.ui.TrayMenu().Items[0].Label == MenuSignInAgain })
	})
}

func TestServerCheckNotZipline(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>hello</body></html>"))
	}))
	t.Cleanup(web.Close)
	acct, _, _ := realAccount(t)
	h := newHarness(t, acct)
	s := h.ui.signIn
	test.Type(s.server, web.URL)
	h.loop.until(t, "not zipline", func() bool { return strings.Contains(s.serverState.Text, "not as a Zipline server") })

	// Nothing listens on this port any more.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	s.server.SetText("")
	test.Type(s.server, url)
	h.loop.until(t, "cannot reach", func() bool { return s.serverIcon.Resource == theme.ErrorIcon() })
	if !strings.HasPrefix(s.serverState.Text, "Cannot reach the server") && !strings.Contains(s.serverState.Text, "listening") {
		t.Errorf("state = %q", s.serverState.Text)
	}
}
