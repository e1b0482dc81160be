package auth

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// fakeServer starts a fake Zipline 4.6.3 with one user, alice.
func fakeServer(t *testing.T, cfg ziplinetest.Config) *ziplinetest.Server {
	t.Helper()
	srv := ziplinetest.NewServer(cfg)
	t.Cleanup(srv.Close)
	srv.AddUser("alice", "correct horse", ziplinetest.RoleUser)
	return srv
}

func noLoginLimit() ziplinetest.Config {
	return ziplinetest.Config{LoginRateLimit: ziplinetest.RateLimit{Off: true}}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func clientFor(t *testing.T, server string, cfg *Config) *zipline.Client {
	t.Helper()
	c, err := NewClient(Credentials{Server: server}, cfg)
	if err != nil {
		t.Fatalf("NewClient(%s): %v", server, err)
	}
	return c
}

// assertPlain checks an error is one sentence for people: no token, no
// password, no Go-isms.
func assertPlain(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error")
	}
	msg := err.Error()
	t.Logf("user sees: %s", msg)
	if msg != Explain(err) {
		t.Errorf("err.Error() %q differs from Explain %q", msg, Explain(err))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error shows a secret: %q", msg)
		}
	}
	for _, bad := range []string{"goroutine", "\n", "%!", "<nil>", "E1044", "statusCode"} {
		if strings.Contains(msg, bad) {
			t.Errorf("error %q contains %q", msg, bad)
		}
	}
}

func TestSignInPasswordSaveResolve(t *testing.T) {
	srv := fakeServer(t, ziplinetest.Config{}) // real login rate limit
	ctx := testCtx(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	cfg := Defaults()
	store := NewMemoryStore()

	res, err := SignInPassword(ctx, clientFor(t, srv.URL, cfg), " alice ", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Username != "alice" || res.Server != srv.URL || res.Token == "" || res.User == nil || res.User.Username != "alice" {
		t.Fatalf("result: %v %+v", res, res.User)
	}
	if n := srv.Sessions("alice"); n != 0 {
		t.Errorf("%d cookie sessions left open after sign-in", n)
	}
	if err := Save(cfg, path, store, res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), res.Token) || strings.Contains(string(b), "correct horse") {
		t.Fatalf("config.json holds a secret:\n%s", b)
	}
	loaded, err := LoadConfig(path)
	if err != nil || loaded.Server != srv.URL || loaded.Username != "alice" {
		t.Fatalf("saved config: %+v %v", loaded, err)
	}

	t.Setenv(ServerEnv, "")
	t.Setenv(TokenEnv, "")
	creds, err := Resolve(ctx, Overrides{}, loaded, store)
	if err != nil || creds.Token != res.Token || creds.Source != SourceKeyring {
		t.Fatalf("resolve after sign-in: %v %v", creds, err)
	}
	c, err := NewClient(creds, loaded)
	if err != nil {
		t.Fatal(err)
	}
	u, err := Verify(ctx, c)
	if err != nil || u.Username != "alice" {
		t.Fatalf("verify: %+v %v", u, err)
	}

	// The token dies on the server: Verify says to sign in again.
	srv.ResetToken("alice")
	_, err = Verify(ctx, c)
	if !errors.Is(err, zipline.ErrUnauthorized) || !strings.Contains(err.Error(), "sign in again") {
		t.Fatalf("verify with a reset token: %v", err)
	}
	assertPlain(t, err, res.Token)

	// Signing in again right away meets the 1-per-2 s login limit, which
	// the client waits out.
	res2, err := SignInPassword(ctx, clientFor(t, srv.URL, cfg), "alice", "correct horse", "")
	if err != nil {
		t.Fatalf("second sign-in: %v", err)
	}
	if err := Save(loaded, path, store, res2); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(srv.URL, "alice"); got != res2.Token || store.Len() != 1 {
		t.Fatalf("store after re-sign-in: %d entries", store.Len())
	}

	if err := SignOut(loaded, path, store); err != nil {
		t.Fatal(err)
	}
	if store.Len() != 0 {
		t.Fatal("sign-out left the token in the store")
	}
	after, _ := LoadConfig(path)
	if after.Username != "" || after.Server != srv.URL {
		t.Fatalf("after sign-out: server %q user %q", after.Server, after.Username)
	}
	if _, err := Resolve(ctx, Overrides{}, after, store); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("resolve after sign-out: %v", err)
	}
}

func TestSignInTOTP(t *testing.T) {
	srv := fakeServer(t, noLoginLimit())
	totp, err := srv.EnableTOTP("alice")
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	c := clientFor(t, srv.URL, nil)

	_, err = SignInPassword(ctx, c, "alice", "correct horse", "")
	if !errors.Is(err, zipline.ErrTOTPRequired) || !strings.Contains(err.Error(), "code") {
		t.Fatalf("no code: %v", err)
	}
	assertPlain(t, err, "correct horse")

	wrong := "000000"
	if totp.Code() == wrong {
		wrong = "111111"
	}
	_, err = SignInPassword(ctx, c, "alice", "correct horse", wrong)
	if !errors.Is(err, zipline.ErrInvalidTOTP) || !strings.Contains(err.Error(), "Wrong two-factor code") {
		t.Fatalf("wrong code: %v", err)
	}
	assertPlain(t, err, "correct horse")

	_, err = SignInPassword(ctx, c, "alice", "correct horse", "12a456")
	if !errors.Is(err, zipline.ErrInvalidTOTP) {
		t.Fatalf("letters in the code: %v", err)
	}

	code := totp.Code()
	res, err := SignInPassword(ctx, c, "alice", "correct horse", code[:3]+" "+code[3:])
	if err != nil {
		t.Fatalf("right code (with a space): %v", err)
	}
	if res.Username != "alice" || res.Token == "" {
		t.Fatalf("result %v", res)
	}
}

func TestSignInWrongPassword(t *testing.T) {
	srv := fakeServer(t, noLoginLimit())
	srv.AddUser("oauth-only", "", ziplinetest.RoleUser)
	ctx := testCtx(t)
	c := clientFor(t, srv.URL, nil)
	for _, who := range []string{"alice", "nobody", "oauth-only"} {
		_, err := SignInPassword(ctx, c, who, "wrong password!", "")
		if !errors.Is(err, zipline.ErrInvalidCredentials) {
			t.Fatalf("%s: %v", who, err)
		}
		if !strings.Contains(err.Error(), "Wrong username or password") || !strings.Contains(err.Error(), "token") {
			t.Errorf("%s: %q does not point to pasting a token", who, err)
		}
		assertPlain(t, err, "wrong password!")
	}
	for _, in := range [][2]string{{"", "pw"}, {"alice", " "}} {
		if _, err := SignInPassword(ctx, c, in[0], in[1], ""); err == nil {
			t.Errorf("empty field %q accepted", in)
		}
	}
}

func TestSignInToken(t *testing.T) {
	srv := fakeServer(t, noLoginLimit())
	ctx := testCtx(t)
	c := clientFor(t, srv.URL, nil)
	tok := srv.User("alice").Token()

	res, err := SignInToken(ctx, c, "  "+tok+"\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if res.Token != tok || res.Username != "alice" || res.Server != srv.URL {
		t.Fatalf("result %v", res)
	}

	srv.ResetRequests()
	_, err = SignInToken(ctx, c, "Bearer "+tok)
	if !errors.Is(err, ErrBearerPrefix) || !strings.Contains(err.Error(), "without the 'Bearer ' prefix") {
		t.Fatalf("Bearer: %v", err)
	}
	assertPlain(t, err, tok)
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("a Bearer token was sent to the server (%d requests)", n)
	}

	if _, err := SignInToken(ctx, c, tok[:10]+" "+tok[10:]); err == nil {
		t.Error("token with a space accepted")
	}
	if _, err := SignInToken(ctx, c, "  \n"); err == nil {
		t.Error("empty token accepted")
	}

	// The login reply's user.token is the raw secret, not an API token.
	raw := srv.User("alice").RawSecret()
	_, err = SignInToken(ctx, c, raw)
	if !errors.Is(err, ErrTokenRejected) || !errors.Is(err, zipline.ErrUnauthorized) {
		t.Fatalf("raw secret: %v", err)
	}
	assertPlain(t, err, raw)

	srv.ResetToken("alice")
	_, err = SignInToken(ctx, c, tok)
	if !errors.Is(err, ErrTokenRejected) || !strings.Contains(err.Error(), "Copy token") {
		t.Fatalf("reset token: %v", err)
	}
	assertPlain(t, err, tok)
}

func TestSignInNotZipline(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><title>My blog</title><p>hello</p>"))
	}))
	defer web.Close()
	ctx := testCtx(t)
	c := clientFor(t, web.URL, nil)
	_, err := SignInPassword(ctx, c, "alice", "pw-not-for-blogs", "")
	if !errors.Is(err, zipline.ErrNotZipline) || !strings.Contains(err.Error(), "not as a Zipline server") || !strings.Contains(err.Error(), web.Listener.Addr().String()) {
		t.Fatalf("password to a blog: %v", err)
	}
	assertPlain(t, err, "pw-not-for-blogs")
	_, err = SignInToken(ctx, c, "abc.def")
	if !errors.Is(err, zipline.ErrNotZipline) {
		t.Fatalf("token to a blog: %v", err)
	}
}

func TestSignInUnreachable(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx := testCtx(t)
	c := clientFor(t, "http://"+addr, nil)
	_, err = SignInPassword(ctx, c, "alice", "correct horse", "")
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "Nothing is listening") {
		t.Fatalf("server down: %v", err)
	}
	assertPlain(t, err, "correct horse")

	_, err = SignInToken(ctx, clientFor(t, "https://no-such-host.invalid", nil), "abc.def")
	if err == nil || !strings.Contains(err.Error(), "Cannot find the server") {
		t.Fatalf("unknown host: %v", err)
	}
	assertPlain(t, err, "abc.def")
}

// An https server with a private CA: refused with a hint, then accepted
// once the CA file is configured.
func TestSignInPrivateCA(t *testing.T) {
	srv := fakeServer(t, noLoginLimit())
	tlsSrv := httptest.NewUnstartedServer(srv)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	ctx := testCtx(t)
	tok := srv.User("alice").Token()

	_, err := SignInToken(ctx, clientFor(t, tlsSrv.URL, nil), tok)
	if err == nil || !strings.Contains(err.Error(), "not trusted") || !strings.Contains(err.Error(), "CA file") {
		t.Fatalf("private CA: %v", err)
	}
	assertPlain(t, err, tok)

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.CAFile = caFile
	res, err := SignInToken(ctx, clientFor(t, tlsSrv.URL, cfg), tok)
	if err != nil || res.Username != "alice" {
		t.Fatalf("with the CA file: %v %v", res, err)
	}

	// Plain http against the https port.
	_, err = SignInToken(ctx, clientFor(t, strings.Replace(tlsSrv.URL, "https://", "http://", 1), nil), tok)
	// Go's https server answers plain http with a 400 text body; the
	// client reports it as not Zipline (or, when it passes the body on,
	// Explain says to use https).
	if !errors.Is(err, zipline.ErrNotZipline) && !strings.Contains(Explain(err), "expects https") {
		t.Fatalf("http to an https port: %v", err)
	}
	assertPlain(t, err, tok)
}

func TestSaveWithoutKeyring(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	cfg := Defaults()
	res := &Result{Server: "https://z.example", Username: "alice", Token: "SECRET-TOKEN-VALUE"}
	err := Save(cfg, path, &MemoryStore{Err: NoKeyringError()}, res)
	if !errors.Is(err, ErrTokenNotStored) || !errors.Is(err, ErrNoKeyring) {
		t.Fatalf("save without keyring: %v", err)
	}
	for _, w := range []string{"could not be saved", "ZIPLINE_SERVER=https://z.example", "ZIPLINE_TOKEN", "no D-Bus session bus"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	assertPlain(t, err, res.Token)
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Fatal("settings written although the token was not stored")
	}
	if cfg.Username != "" {
		t.Fatal("in-memory config changed although the token was not stored")
	}
	// Nothing anywhere under the folder holds the token.
	filepath.WalkDir(filepath.Dir(path), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), res.Token) {
				t.Errorf("%s holds the token", p)
			}
		}
		return nil
	})
}

func TestSaveSwitchAccountRemovesOldToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	cfg := Defaults()
	store := NewMemoryStore()
	if err := Save(cfg, path, store, &Result{Server: "https://a.example", Username: "alice", Token: "t1"}); err != nil {
		t.Fatal(err)
	}
	if err := Save(cfg, path, store, &Result{Server: "https://b.example/", Username: "bob", Token: "t2"}); err != nil {
		t.Fatal(err)
	}
	if store.Len() != 1 || cfg.Server != "https://b.example" || cfg.Username != "bob" {
		t.Fatalf("after switching: %d tokens, %s %s", store.Len(), cfg.Server, cfg.Username)
	}
	if _, err := store.Get("https://a.example", "alice"); !errors.Is(err, ErrNotSignedIn) {
		t.Fatal("old account's token kept")
	}
}

// A Zipline v3 server (Next.js API routes, {"error","code":<status>}).
func TestSignInV3(t *testing.T) {
	v3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "Next.js")
		switch {
		case r.URL.Path == "/api/user" && r.Header.Get("Authorization") == "":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			w.Write([]byte(`{"error":"no authorization","code":403}`))
		case r.URL.Path == "/api/user":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id":1,"username":"alice","administrator":false,"superAdmin":false,"token":"x"}`))
		case r.URL.Path == "/api/auth/login":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"success":true}`))
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(404)
			w.Write([]byte(`<!DOCTYPE html><html><head><title>404</title></head><body><script id="__NEXT_DATA__"></script></body></html>`))
		}
	}))
	defer v3.Close()
	ctx := testCtx(t)
	c := clientFor(t, v3.URL, nil)
	_, err := SignInPassword(ctx, c, "alice", "pw3", "")
	if !errors.Is(err, zipline.ErrV3) || !strings.Contains(err.Error(), "v4") {
		t.Fatalf("password sign-in to v3: %v", err)
	}
	assertPlain(t, err, "pw3")
	_, err = SignInToken(ctx, c, "v3token")
	if !errors.Is(err, zipline.ErrV3) {
		t.Fatalf("token sign-in to v3: %v", err)
	}
	assertPlain(t, err, "v3token")
}

// A fresh server with no user yet.
func TestSignInFirstSetup(t *testing.T) {
	srv := ziplinetest.NewServer(noLoginLimit())
	defer srv.Close()
	_, err := SignInPassword(testCtx(t), clientFor(t, srv.URL, nil), "alice", "pw", "")
	if !errors.Is(err, ErrFirstSetup) || !strings.Contains(err.Error(), "setup") {
		t.Fatalf("first setup: %v", err)
	}
}
