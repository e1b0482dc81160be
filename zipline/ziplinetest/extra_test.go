package ziplinetest

import (
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestTLS(t *testing.T) {
	s := New(t, Config{TLS: true})
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL)
	}
	// A default client does not trust the certificate.
	if _, err := (&http.Client{Transport: &http.Transport{}}).Get(s.URL + "/api/healthcheck"); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CertPEM()) {
		t.Fatal("CertPEM is not a PEM certificate")
	}
	res, err := s.Client().Get(s.URL + "/api/healthcheck")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != `{"pass":true}` {
		t.Fatalf("body %s", b)
	}
	s.Down()
	if err := s.Up(); err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	res, err = c.Get(s.URL + "/api/healthcheck")
	if err != nil {
		t.Fatalf("after Up: %v", err)
	}
	res.Body.Close()
}

func TestFolderCreateGet(t *testing.T) {
	s := New(t, Config{})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	bob := s.AddUser("bob", "pw", RoleUser).Token()
	post := func(body string) resp {
		return do(t, "POST", s.URL+"/api/user/folders", strings.NewReader(body), "Authorization", tok, "Content-Type", "application/json")
	}
	r := post(`{"name":"Screens","isPublic":false}`)
	m := r.json(t)
	if r.status != 200 || m["name"] != "Screens" || m["files"] == nil {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	expect(t, post(`{"name":"Again"}`), 429, "") // 1 per 2 s
	id := m["id"].(string)
	expect(t, do(t, "GET", s.URL+"/api/user/folders/"+id, nil, "Authorization", tok), 200, "")
	expect(t, do(t, "GET", s.URL+"/api/user/folders/"+id, nil, "Authorization", bob), 404,
		`{"error":"E4001: Folder not found","code":4001,"statusCode":404}`)
	expect(t, upload(t, s, tok, []string{"x-zipline-folder", id}, png("a.png")), 200, "")
	if f := do(t, "GET", s.URL+"/api/user/folders/"+id, nil, "Authorization", tok).json(t)["files"].([]any); len(f) != 1 {
		t.Fatalf("folder files %v", f)
	}
}

func TestMaxViewsAndExpiry(t *testing.T) {
	s := New(t, Config{UploadRateLimit: RateLimit{Off: true}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	name := func(r resp) string { return r.json(t)["files"].([]any)[0].(map[string]any)["name"].(string) }
	n := name(upload(t, s, tok, []string{"x-zipline-max-views", "2"}, png("a.png")))
	expect(t, do(t, "GET", s.URL+"/raw/"+n, nil), 200, "")
	expect(t, do(t, "GET", s.URL+"/u/"+n, nil), 200, "")
	expect(t, do(t, "GET", s.URL+"/raw/"+n, nil), 404, "")
	if _, ok := s.FileByName(n); ok {
		t.Fatal("file kept after max views")
	}
	uploaded := time.Now()
	n = name(upload(t, s, tok, []string{"x-zipline-deletes-at", "150ms"}, png("b.png")))
	expect(t, do(t, "GET", s.URL+"/api/user/files/"+n, nil, "Authorization", tok), 200, "")
	waitFor(t, "the expiry to pass", 5*time.Second, func() bool { return time.Since(uploaded) > 200*time.Millisecond })
	expect(t, do(t, "GET", s.URL+"/raw/"+n, nil), 404, "")
	if _, ok := s.FileByName(n); ok {
		t.Fatal("expired file kept")
	}
}

func TestHealthcheckDisabled(t *testing.T) {
	expect(t, do(t, "GET", New(t, Config{HealthcheckDisabled: true}).URL+"/api/healthcheck", nil), 404,
		`{"error":"E9002: Not found","code":9002,"statusCode":404}`)
	expect(t, do(t, "GET", New(t, Config{Version: "4.4", HealthcheckDisabled: true}).URL+"/api/healthcheck", nil), 404, "")
}
