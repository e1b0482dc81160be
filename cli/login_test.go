package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

func newServer(t *testing.T) *ziplinetest.Server {
	t.Helper()
	srv := ziplinetest.NewServer(ziplinetest.Config{LoginRateLimit: ziplinetest.RateLimit{Off: true}})
	t.Cleanup(srv.Close)
	srv.AddUser("alice", "hunter2", ziplinetest.RoleUser)
	return srv
}

// checkSignedIn asserts that the profile names alice on srv, the store
// holds a token the server accepts, and no file holds the token.
func checkSignedIn(t *testing.T, te *testEnv, srv *ziplinetest.Server) {
	t.Helper()
	tok, err := te.store.Get(srv.URL, "alice")
	if err != nil {
		t.Fatalf("no token stored: %v", err)
	}
	cfg, err := auth.LoadConfig(te.Paths.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server != srv.URL || cfg.Username != "alice" {
		t.Errorf("config server=%q username=%q", cfg.Server, cfg.Username)
	}
	raw, _ := os.ReadFile(te.Paths.ConfigFile())
	if strings.Contains(string(raw), tok) {
		t.Error("config file contains the token")
	}
	if strings.Contains(te.out.String()+te.err.String(), tok) {
		t.Error("output contains the token")
	}
	// The stored token works: whoami with a fresh Env on the same profile.
	w := &testEnv{Env: &Env{Stdout: te.out, Stderr: te.err, Paths: te.Paths, Store: te.store}}
	te.out.Reset()
	if code := w.run("whoami"); code != ExitOK {
		t.Fatalf("whoami after login: exit %d, stderr %s", code, te.err)
	}
	for _, want := range []string{"user:    alice\n", "role:    USER\n", "server:  " + srv.URL + "\n", "token:   from the keyring\n"} {
		if !strings.Contains(te.out.String(), want) {
			t.Errorf("whoami output lacks %q:\n%s", want, te.out)
		}
	}
}

func TestLoginPasswordStdin(t *testing.T) {
	srv := newServer(t)
	te := newTestEnv(t, "hunter2\n", nil)
	code := te.run("login", "--server", srv.URL, "--username", "alice", "--password-stdin")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, te.err)
	}
	if want := "Signed in to " + srv.URL + " as alice (USER)"; !strings.Contains(te.out.String(), want) {
		t.Errorf("stdout = %q, want %q", te.out, want)
	}
	if n := srv.Sessions("alice"); n != 0 {
		t.Errorf("%d login sessions left on the server, want 0", n)
	}
	checkSignedIn(t, te, srv)
}

func TestLoginWrongPassword(t *testing.T) {
	srv := newServer(t)
	te := newTestEnv(t, "wrong\n", nil)
	code := te.run("login", "--server", srv.URL, "--username", "alice", "--password-stdin")
	if code != ExitFailure {
		t.Fatalf("exit %d; stderr %s", code, te.err)
	}
	if !strings.Contains(te.err.String(), "wrong username or password") || !strings.Contains(te.err.String(), "--token-stdin") {
		t.Errorf("stderr = %q", te.err)
	}
	if te.store.Len() != 0 {
		t.Error("a token was stored after a failed login")
	}
}

func TestLoginTOTP(t *testing.T) {
	srv := newServer(t)
	totp, err := srv.EnableTOTP("alice")
	if err != nil {
		t.Fatal(err)
	}
	// No code and no terminal: a usage error that names --totp.
	te := newTestEnv(t, "hunter2\n", nil)
	if code := te.run("login", "--server", srv.URL, "--username", "alice", "--password-stdin"); code != ExitUsage {
		t.Fatalf("exit %d, want %d; stderr %s", code, ExitUsage, te.err)
	}
	if !strings.Contains(te.err.String(), "this account needs a two-factor code: pass --totp") {
		t.Errorf("stderr = %q", te.err)
	}
	// A wrong code.
	te = newTestEnv(t, "hunter2\n", nil)
	bad := "000000"
	if totp.Code() == bad {
		bad = "111111"
	}
	if code := te.run("login", "--server", srv.URL, "--username", "alice", "--password-stdin", "--totp", bad); code != ExitFailure {
		t.Fatalf("wrong code: exit %d; stderr %s", code, te.err)
	}
	if !strings.Contains(te.err.String(), "wrong two-factor code") {
		t.Errorf("stderr = %q", te.err)
	}
	// The right code.
	te = newTestEnv(t, "hunter2\n", nil)
	if code := te.run("login", "--server", srv.URL, "--username", "alice", "--password-stdin", "--totp", totp.Code()); code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, te.err)
	}
	checkSignedIn(t, te, srv)
	// On a terminal, the code is asked for.
	te = newTestEnv(t, "hunter2\n"+totp.Code()+"\n", nil)
	te.StdinIsTerminal = true
	if code := te.run("login", "--server", srv.URL, "--username", "alice"); code != ExitOK {
		t.Fatalf("prompted: exit %d; stderr %s", code, te.err)
	}
	if !strings.Contains(te.err.String(), "Password for alice at "+srv.URL) || !strings.Contains(te.err.String(), "Two-factor code: ") {
		t.Errorf("prompts = %q", te.err)
	}
}

func TestLoginToken(t *testing.T) {
	srv := newServer(t)
	tok := srv.User("alice").Token()
	te := newTestEnv(t, tok+"\n", nil)
	if code := te.run("login", "--server", srv.URL, "--token-stdin"); code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, te.err)
	}
	checkSignedIn(t, te, srv)

	// Interactive: an empty username means "paste a token".
	te = newTestEnv(t, "\n"+tok+"\n", nil)
	te.StdinIsTerminal = true
	if code := te.run("login", srv.URL); code != ExitOK {
		t.Fatalf("interactive token: exit %d; stderr %s", code, te.err)
	}
	checkSignedIn(t, te, srv)

	// A token the server does not know.
	srv.ResetToken("alice")
	te = newTestEnv(t, tok+"\n", nil)
	if code := te.run("login", "--server", srv.URL, "--token-stdin"); code != ExitFailure {
		t.Fatalf("stale token: exit %d; stderr %s", code, te.err)
	}
	if !strings.Contains(te.err.String(), "did not accept this token") || strings.Contains(te.err.String(), tok) {
		t.Errorf("stderr = %q", te.err)
	}
	if te.store.Len() != 0 {
		t.Error("a rejected token was stored")
	}
}

func TestLoginBadServers(t *testing.T) {
	notZipline := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>It works!</body></html>"))
	}))
	t.Cleanup(notZipline.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	for _, tc := range []struct {
		name, server string
		code         int
		want         string
	}{
		{"not zipline", notZipline.URL, ExitFailure, "not as a Zipline server"},
		{"nothing listening", closedURL, ExitFailure, "connection refused"},
		{"plain http elsewhere", "http://zipline.example.com", ExitUsage, "--allow-http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEnv(t, "hunter2\n", nil)
			code := te.run("login", "--server", tc.server, "--username", "alice", "--password-stdin")
			if code != tc.code || !strings.Contains(te.err.String(), tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, te.err, tc.want)
			}
			if strings.Contains(te.err.String(), "hunter2") {
				t.Error("stderr contains the password")
			}
		})
	}
}

func TestLogout(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleUser)
	if code := s.run("logout"); code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, s.err)
	}
	if s.store.Len() != 0 {
		t.Error("token still stored")
	}
	cfg, _ := auth.LoadConfig(s.Paths.ConfigFile())
	if cfg.Username != "" || cfg.Server != s.srv.URL {
		t.Errorf("after logout: server %q username %q", cfg.Server, cfg.Username)
	}
	s.out.Reset()
	s.Config = nil
	if code := s.run("whoami"); code != ExitSignIn {
		t.Errorf("whoami after logout: exit %d, want %d", code, ExitSignIn)
	}
	if code := s.run("logout"); code != ExitOK || !strings.Contains(s.out.String(), "Not signed in.") {
		t.Errorf("second logout: exit %d, stdout %q", code, s.out)
	}
}

func TestWhoamiRejectedToken(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleUser)
	s.srv.ResetToken("alice")
	if code := s.run("whoami"); code != ExitSignIn {
		t.Fatalf("exit %d, want %d; stderr %s", code, ExitSignIn, s.err)
	}
	if !strings.Contains(s.err.String(), "zipline-tray login") || strings.Contains(s.err.String(), s.token) {
		t.Errorf("stderr = %q", s.err)
	}
}

func TestLoginWithoutKeyring(t *testing.T) {
	srv := newServer(t)
	te := newTestEnv(t, "hunter2\n", nil)
	te.store.Err = auth.NoKeyringError()
	code := te.run("login", "--server", srv.URL, "--username", "alice", "--password-stdin")
	if code != ExitFailure {
		t.Fatalf("exit %d; stderr %s", code, te.err)
	}
	for _, want := range []string{"No keyring available", auth.ServerEnv + "=" + srv.URL, auth.TokenEnv + "=<your token>"} {
		if !strings.Contains(te.err.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, te.err)
		}
	}
	// Nothing was asked of the server: the problem is found first.
	for _, r := range srv.Requests() {
		if r.Path == "/api/auth/login" {
			t.Error("signed in although the token could not be kept")
		}
	}
}

func TestLoginPrivateCA(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{TLS: true, LoginRateLimit: ziplinetest.RateLimit{Off: true}})
	t.Cleanup(srv.Close)
	srv.AddUser("alice", "hunter2", ziplinetest.RoleUser)
	te := newTestEnv(t, "hunter2\n", nil)
	code := te.run("login", "--server", srv.URL, "--username", "alice", "--password-stdin")
	if code != ExitFailure || !strings.Contains(te.err.String(), "--ca-file") {
		t.Fatalf("untrusted certificate: exit %d, stderr %q", code, te.err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	te = newTestEnv(t, "hunter2\n", nil)
	if code := te.run("login", "--server", srv.URL, "--username", "alice", "--password-stdin", "--ca-file", ca); code != ExitOK {
		t.Fatalf("with --ca-file: exit %d, stderr %q", code, te.err)
	}
	cfg, _ := auth.LoadConfig(te.Paths.ConfigFile())
	if cfg.CAFile != ca {
		t.Errorf("config caFile = %q, want %q", cfg.CAFile, ca)
	}
	// Later commands use the saved CA file.
	checkSignedIn(t, te, srv)
}
