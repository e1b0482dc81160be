package zipline_test

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// recorder is a loopback server that keeps the headers it was sent.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) add(req *http.Request) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
}

func (r *recorder) all() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.reqs...)
}

// TestRedirectKeepsCredentials: a redirect to another origin (here the same
// loopback IP on another port, which Go's own rule treats as the same host)
// is refused with ErrRedirectedAway, so the other origin gets nothing; a
// redirect within the server is followed and keeps the credentials.
func TestRedirectKeepsCredentials(t *testing.T) {
	const token, extra, cookie = "TOKEN-SECRET-0123456789", "HEADER-SECRET-42", "COOKIE-SECRET-77"
	var other recorder
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.add(r)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/user/token":
			io.WriteString(w, `{"token":"from-the-other-host"}`)
		default:
			io.WriteString(w, `{"user":{"id":"x","username":"other"}}`)
		}
	}))
	defer b.Close()
	var home recorder
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		home.add(r)
		switch r.URL.Path {
		case "/api/user", "/api/user/token":
			http.Redirect(w, r, b.URL+r.URL.Path, http.StatusFound)
		case "/api/user/files/old":
			http.Redirect(w, r, "/api/user/files/new", http.StatusMovedPermanently)
		case "/api/user/files/new":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"new","name":"n.png","size":1,"createdAt":"2026-01-01T00:00:00Z"}`)
		case "/api/auth/login":
			http.SetCookie(w, &http.Cookie{Name: "zipline_session", Value: cookie, Path: "/"})
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"user":{"id":"u1","username":"alice","role":"USER","totpSecret":null}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer a.Close()

	c, err := zipline.NewClient(zipline.Options{Server: a.URL, Token: token, Headers: map[string]string{"CF-Access-Client-Secret": extra}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if _, err := c.User(ctx); !errors.Is(err, zipline.ErrRedirectedAway) {
		t.Fatalf("User through a redirect to another origin: %v, want ErrRedirectedAway", err)
	}
	// Same-origin redirect: followed, credentials stay.
	if f, err := c.File(ctx, "old"); err != nil || f.ID != "new" {
		t.Fatalf("File through a same-origin redirect = %+v, %v", f, err)
	}
	s, err := c.Login(ctx, "alice", "pw-alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIToken(ctx); !errors.Is(err, zipline.ErrRedirectedAway) {
		t.Fatalf("APIToken through a redirect to another origin: %v, want ErrRedirectedAway", err)
	}
	for _, r := range other.all() {
		t.Errorf("the other origin got %s %s", r.Method, r.URL.Path)
	}
	var sawNew, sawCookie bool
	for _, r := range home.all() {
		switch r.URL.Path {
		case "/api/user/files/new":
			sawNew = r.Header.Get("Authorization") == token && r.Header.Get("CF-Access-Client-Secret") == extra
		case "/api/user/token":
			sawCookie = strings.Contains(r.Header.Get("Cookie"), cookie) && r.Header.Get("Authorization") == ""
		}
	}
	if !sawNew {
		t.Error("same-origin redirect lost the token or the extra header")
	}
	if !sawCookie {
		t.Error("the session cookie (without Authorization) did not reach the server")
	}
}

func TestInsecureHTTP(t *testing.T) {
	for server, ok := range map[string]bool{
		"http://127.0.0.1:3000": true, "http://localhost:3000": true, "http://[::1]:3000": true, "http://127.8.9.10": true,
		"https://zipline.example.com": true, "zipline.example.com": true,
		"http://zipline.example.com": false, "http://10.0.0.5:3000": false, "http://192.168.1.2": false,
	} {
		_, err := zipline.NewClient(zipline.Options{Server: server, Token: "t"})
		if ok && err != nil {
			t.Errorf("NewClient(%s): %v", server, err)
		}
		if !ok {
			wantIs(t, err, zipline.ErrInsecureHTTP)
			if _, err := zipline.NewClient(zipline.Options{Server: server, AllowHTTP: true}); err != nil {
				t.Errorf("NewClient(%s, AllowHTTP): %v", server, err)
			}
		}
	}
	c, err := zipline.NewClient(zipline.Options{Server: " https://Zip.Example.com/api/upload/ "})
	if err != nil || c.Server() != "https://zip.example.com" {
		t.Errorf("normalised server %v, %v", c, err)
	}
	if _, err := zipline.NewClient(zipline.Options{Server: "https://z.example.com", Headers: map[string]string{"Authorization": "x"}}); err == nil {
		t.Error("an extra Authorization header was accepted")
	}
}

// TestCAFile: a private CA is trusted only when given; TLS is verified.
func TestCAFile(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{Version: "4.6"})
	defer srv.Close()
	ts := httptest.NewTLSServer(srv)
	defer ts.Close()
	ctx := ctxT(t)

	c, err := zipline.NewClient(zipline.Options{Server: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Probe(ctx)
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		t.Fatalf("Probe of an untrusted certificate: %v", err)
	}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = zipline.NewClient(zipline.Options{Server: ts.URL, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Probe(ctx); err != nil {
		t.Fatalf("Probe with the CA file: %v", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	if _, err := zipline.NewClient(zipline.Options{Server: ts.URL, CAFile: bad}); err == nil {
		t.Error("a CA file without certificates was accepted")
	}
	if _, err := zipline.NewClient(zipline.Options{Server: ts.URL, CAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Error("a missing CA file was accepted")
	}
}

// v3Server imitates a Zipline v3 (Next.js API routes, §6).
func v3Server(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "Next.js")
		switch r.URL.Path {
		case "/api/user":
			w.Header().Set("Content-Type", "application/json")
			if r.Header.Get("Authorization") != "v3-token" {
				w.WriteHeader(401)
				io.WriteString(w, `{"error":"not logged in","code":401}`)
				return
			}
			io.WriteString(w, `{"id":1,"uuid":"a-b","username":"admin","token":"v3-token","administrator":true,"superAdmin":true,"domains":[],"embed":{},"totpSecret":null,"oauth":[]}`)
		case "/api/auth/login":
			w.Header().Set("Content-Type", "application/json")
			http.SetCookie(w, &http.Cookie{Name: "user", Value: "signed", Path: "/"})
			io.WriteString(w, `{"success":true}`)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(404)
			io.WriteString(w, `<!DOCTYPE html><html><head><title>404</title></head><body><div id="__next"></div><script id="__NEXT_DATA__" type="application/json">{}</script></body></html>`)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestV3(t *testing.T) {
	ts := v3Server(t)
	ctx := ctxT(t)
	anon, _ := zipline.NewClient(zipline.Options{Server: ts.URL})
	_, err := anon.Probe(ctx)
	wantIs(t, err, zipline.ErrV3)
	withTok := anon.WithToken("v3-token")
	_, err = withTok.Probe(ctx)
	wantIs(t, err, zipline.ErrV3)
	noSecret(t, err, "v3-token")
	_, err = withTok.User(ctx)
	wantIs(t, err, zipline.ErrV3)
	_, err = anon.Login(ctx, "admin", "pw-admin", "")
	wantIs(t, err, zipline.ErrV3)
	if !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("v3 message does not say what to do: %v", err)
	}
}

func TestNotZipline(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"html site": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><title>My blog</title><body>hello</body></html>")
		},
		"404 everywhere": http.NotFound,
		"other json": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"ok","data":[1,2,3]}`)
		},
		"other fastify app": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			fmt.Fprintf(w, `{"message":"Route %s:%s not found","error":"Not Found","statusCode":404}`, r.Method, r.URL.Path)
		},
		"nextjs site": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Powered-By", "Next.js")
			w.WriteHeader(404)
			io.WriteString(w, `<html><script id="__NEXT_DATA__"></script></html>`)
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(h)
			defer ts.Close()
			c, _ := zipline.NewClient(zipline.Options{Server: ts.URL, Token: "TOKEN-XYZ-123"})
			_, err := c.Probe(ctxT(t))
			wantIs(t, err, zipline.ErrNotZipline)
			if errors.Is(err, zipline.ErrV3) {
				t.Error("also ErrV3")
			}
			if msg := err.Error(); !strings.Contains(msg, "not a Zipline server") || len(msg) > 300 || strings.Contains(msg, "TOKEN-XYZ-123") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

// TestProbeServerDown: a proxy's 502 is a retryable server error, not a
// verdict that the URL is wrong.
func TestProbeServerDown(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head></html>")
	}))
	defer ts.Close()
	c, _ := zipline.NewClient(zipline.Options{Server: ts.URL})
	_, err := c.Probe(ctxT(t))
	wantIs(t, err, zipline.ErrServer)
	if errors.Is(err, zipline.ErrNotZipline) || !zipline.Retryable(err) || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("Probe of a 502: %v", err)
	}
}

// TestTokenNeverInErrors: a hostile or broken server that echoes the
// Authorization header (and the login password) back in every kind of
// error body; no client error message may contain them.
func TestTokenNeverInErrors(t *testing.T) {
	const token, password = "KNOWN-TOKEN-abcdef0123456789==", "KNOWN-PASSWORD-987"
	var status atomic.Int32
	var kind atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		echo := r.Header.Get("Authorization") + " " + password + " " + token
		st := int(status.Load())
		if r.URL.Path == "/api/server/public" && st < 400 {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"files":{"maxFileSize":"100mb"},"chunks":{"max":"1mb","size":"1mb","enabled":true}}`)
			return
		}
		w.Header().Set("Retry-After", "1")
		switch kind.Load() {
		case 0:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(st)
			fmt.Fprintf(w, `{"error":"E1001: bad %s","code":1001,"statusCode":%d,"message":%q}`, echo, st, echo)
		case 1:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(st)
			fmt.Fprintf(w, "<html><title>%d %s</title></html>", st, echo)
		default:
			w.WriteHeader(st)
			fmt.Fprintf(w, "%s\n", echo)
		}
	}))
	defer ts.Close()
	c, err := zipline.NewClient(zipline.Options{Server: ts.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	small := zipline.Upload{Name: "a.txt", Size: 3, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("abc")), nil }}
	calls := map[string]func() error{
		"Probe": func() error { _, err := c.Probe(ctx); return err },
		"Limits": func() error {
			fresh, _ := zipline.NewClient(zipline.Options{Server: ts.URL, Token: token}) // Limits caches
			_, err := fresh.Limits(ctx)
			return err
		},
		"User":          func() error { _, err := c.User(ctx); return err },
		"ServerVersion": func() error { _, err := c.ServerVersion(ctx); return err },
		"Upload":        func() error { _, err := c.Upload(ctx, small, zipline.UploadOptions{}, nil); return err },
		"UploadChunked": func() error {
			_, err := c.Upload(ctx, prngUpload("b.bin", 1, 2<<20), zipline.UploadOptions{}, nil)
			return err
		},
		"UploadMany": func() error {
			_, err := c.UploadMany(ctx, []zipline.Upload{small, small}, zipline.UploadOptions{}, nil)
			return err
		},
		"Incomplete": func() error { _, err := c.Incomplete(ctx); return err },
		"WaitComplete": func() error {
			short, cancel := context.WithTimeout(ctx, time.Second) // it retries 5xx and 429
			defer cancel()
			return c.WaitComplete(short, "id")
		},
		"Recent":     func() error { _, err := c.Recent(ctx, 5); return err },
		"File":       func() error { _, err := c.File(ctx, "id"); return err },
		"DeleteFile": func() error { _, err := c.DeleteFile(ctx, "id"); return err },
		"Folders":    func() error { _, err := c.Folders(ctx); return err },
		"Shorten":    func() error { _, err := c.Shorten(ctx, "https://e.com", zipline.ShortenOptions{}); return err },
		"Login":      func() error { _, err := c.Login(ctx, "u", password, ""); return err },
	}
	for _, st := range []int{200, 400, 401, 403, 404, 413, 429, 500, 502} {
		for k := int32(0); k < 3; k++ {
			status.Store(int32(st))
			kind.Store(k)
			for name, call := range calls {
				if name == "Login" && (st != 400 || k != 0) {
					continue // login waits 2 s between tries; one round is enough
				}
				if (name == "WaitComplete" || name == "Probe" || name == "Limits") && st == 200 || name == "Limits" && st == 404 {
					continue // a valid answer (404: a server before 4.3 gets the defaults)
				}
				err := call()
				if err == nil {
					t.Errorf("%s with %d/%d: no error", name, st, k)
					continue
				}
				// A prefix is a leak too (messages are truncated).
				if strings.Contains(err.Error(), token[:12]) || name == "Login" && strings.Contains(err.Error(), password[:12]) {
					t.Errorf("%s with %d/%d leaks a secret: %s", name, st, k, err)
				}
			}
		}
	}
}

// TestTransport: TLS verified (1.2+), proxies from the environment, a
// response-header bound for servers that never answer.
func TestTransport(t *testing.T) {
	c, err := zipline.NewClient(zipline.Options{Server: "https://zipline.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := c.HTTPClient().Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T", c.HTTPClient().Transport)
	}
	if tr.Proxy == nil || tr.TLSClientConfig == nil || tr.TLSClientConfig.InsecureSkipVerify || tr.TLSClientConfig.MinVersion < tls.VersionTLS12 || tr.ResponseHeaderTimeout == 0 {
		t.Errorf("transport: proxy set %v, tls %+v, response timeout %v", tr.Proxy != nil, tr.TLSClientConfig, tr.ResponseHeaderTimeout)
	}
	if c.HTTPClient().CheckRedirect == nil {
		t.Error("no redirect policy")
	}
}
