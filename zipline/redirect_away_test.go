package zipline_test

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// awaySink is a loopback server on another port (another origin) that
// keeps every header and body it is sent.
type awaySink struct {
	mu   sync.Mutex
	got  []string // "METHOD path\nheaders\n\nbody"
	srv  *httptest.Server
	seen bool
}

func newAwaySink(t *testing.T) *awaySink {
	s := &awaySink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var sb strings.Builder
		sb.WriteString(r.Method + " " + r.URL.Path + "\n")
		for k, v := range r.Header {
			sb.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
		sb.WriteString("\n" + string(b))
		s.mu.Lock()
		s.got = append(s.got, sb.String())
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"user":{"id":"u1","username":"alice","role":"USER","totpSecret":null}}`)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *awaySink) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// TestLoginRedirectAwayKeepsPassword: a 307/308 redirect of
// POST /api/auth/login to another origin (here another port on the same
// loopback IP, or https to http) must not carry the username and password
// there. Stripping Authorization and Cookie was not enough: Go replays the
// JSON body (it has GetBody). Found by review, fourth session.
func TestLoginRedirectAwayKeepsPassword(t *testing.T) {
	const password = "PASSWORD-SECRET-31337"
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			other := newAwaySink(t)
			home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.srv.URL+r.URL.Path, code)
			}))
			defer home.Close()
			c, err := zipline.NewClient(zipline.Options{Server: home.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, _ = c.Login(ctxT(t), "alice", password, "")
			for _, req := range other.all() {
				if strings.Contains(req, password) {
					t.Errorf("after a %d redirect the other origin %s received the password:\n%s", code, other.srv.URL, req)
				}
			}
		})
	}
	// https → plain http: the password leaves TLS.
	t.Run("https to http", func(t *testing.T) {
		other := newAwaySink(t)
		home := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.srv.URL+r.URL.Path, http.StatusPermanentRedirect)
		}))
		defer home.Close()
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: home.Certificate().Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := zipline.NewClient(zipline.Options{Server: home.URL, CAFile: ca})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Login(ctxT(t), "alice", password, "")
		for _, req := range other.all() {
			if strings.Contains(req, password) {
				t.Errorf("a 308 from %s sent the password in clear text to %s:\n%s", home.URL, other.srv.URL, req)
			}
		}
	})
}

// TestUploadRedirectAwayKeepsFilePassword: Go follows a 302 on
// POST /api/upload as a GET with every x-zipline-* header copied, so the
// file's password (X-Zipline-Password) must not reach another origin.
func TestUploadRedirectAwayKeepsFilePassword(t *testing.T) {
	const filePassword = "FILE-PASSWORD-4242"
	other := newAwaySink(t)
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/server/public":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"files":{"maxFileSize":"100mb","defaultFormat":"random"},"chunks":{"max":"95mb","size":"25mb","enabled":true},"firstSetup":false}`)
		default:
			io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, other.srv.URL+r.URL.Path, http.StatusFound)
		}
	}))
	defer home.Close()
	c, err := zipline.NewClient(zipline.Options{Server: home.URL, Token: "TOKEN-SECRET-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Upload(ctxT(t), zipline.BytesUpload("a.png", pngBytes), zipline.UploadOptions{Password: filePassword}, nil)
	for _, req := range other.all() {
		if strings.Contains(req, filePassword) || strings.Contains(req, "TOKEN-SECRET") {
			t.Errorf("after a 302 the other origin %s received a secret:\n%s", other.srv.URL, req)
		}
	}
}
