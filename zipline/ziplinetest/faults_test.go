package ziplinetest

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	s := newSrv(t, Config{UploadRateLimit: RateLimit{Off: true}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	s.FailNext(2, Failure{Path: "/api/upload"})
	s.FailNext(1, Failure{Path: "/api/upload", Status: 502, HTML: true})
	expect(t, do(t, "GET", s.URL+"/api/healthcheck", nil), 200, "") // other paths unaffected
	for i := 0; i < 2; i++ {
		expect(t, upload(t, s, tok, nil, png("a.png")), 503, `{"error":"Service Unavailable","statusCode":503}`)
	}
	r := upload(t, s, tok, nil, png("a.png"))
	if r.status != 502 || r.header.Get("Content-Type") != "text/html" || !strings.Contains(r.body, "<center><h1>502 Bad Gateway</h1></center>") {
		t.Fatalf("html 502: %d %q", r.status, r.body)
	}
	expect(t, upload(t, s, tok, nil, png("a.png")), 200, "")
	if n := len(s.Files()); n != 1 {
		t.Fatalf("%d files stored", n)
	}
	s.FailNext(1, Failure{Status: 500})
	expect(t, do(t, "GET", s.URL+"/api/healthcheck", nil), 500, "")
}

func TestDropNext(t *testing.T) {
	s := newSrv(t, Config{UploadRateLimit: RateLimit{Off: true}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	s.DropNext(1, "/api/upload", 32<<10)
	ct, body := mpBody(part{filename: "big.bin", ctype: "application/octet-stream", data: randomBytes(1 << 20)})
	req, _ := http.NewRequest("POST", s.URL+"/api/upload", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", tok)
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("request survived the drop: %d", res.StatusCode)
	}
	// The record is written when the handler returns, maybe after the
	// client has seen the connection close.
	waitFor(t, "the dropped request's record", 5*time.Second, func() bool { return len(s.Requests()) == 1 })
	last := s.Requests()[0]
	if last.Status != 0 || last.BodyBytes < 32<<10 || last.BodyBytes >= 1<<20 {
		t.Fatalf("dropped request record %+v", last)
	}
	if len(s.Files()) != 0 {
		t.Fatal("file stored")
	}
	expect(t, upload(t, s, tok, nil, png("a.png")), 200, "")
}

func TestProxyLimit(t *testing.T) {
	s := newSrv(t, Config{UploadRateLimit: RateLimit{Off: true}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	s.SetProxyLimit(64 << 10)
	r := upload(t, s, tok, nil, part{filename: "big.bin", ctype: "application/octet-stream", data: randomBytes(100 << 10)})
	if r.status != 413 || r.header.Get("Content-Type") != "text/html" || !strings.Contains(r.body, "413 Request Entity Too Large") || !strings.Contains(r.body, "nginx") {
		t.Fatalf("proxy 413: %d %q", r.status, r.body)
	}
	expect(t, upload(t, s, tok, nil, png("small.png")), 200, "")

	// Bodies of unknown length (chunked encoding) are counted too.
	send := func(n int) (int, error) {
		data := randomBytes(n)
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			w, _ := mw.CreateFormFile("file", "x.bin")
			w.Write(data)
			mw.Close()
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", s.URL+"/api/upload", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			pr.CloseWithError(err)
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	if st, err := send(10 << 10); err != nil || st != 200 {
		t.Fatalf("small streamed body: %d %v", st, err)
	}
	if f := s.Files(); f[len(f)-1].Size != 10<<10 {
		t.Fatalf("replayed body size %d", f[len(f)-1].Size)
	}
	// A too-big streamed body gets the 413, or a reset if the client was
	// still writing when the proxy hung up, as with real nginx.
	if st, err := send(200 << 10); err == nil && st != 413 {
		t.Fatalf("big streamed body: %d", st)
	}
	s.SetProxyLimit(0)
	expect(t, upload(t, s, tok, nil, part{filename: "big.bin", ctype: "application/octet-stream", data: randomBytes(100 << 10)}), 200, "")
}

func TestDelay(t *testing.T) {
	s := newSrv(t, Config{})
	s.SetDelay("/api/healthcheck", 150*time.Millisecond)
	start := time.Now()
	expect(t, do(t, "GET", s.URL+"/api/healthcheck", nil), 200, "")
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("answered after %v, before the delay", el)
	}
	// A client that gives up is not kept waiting.
	s.SetDelay("", time.Hour)
	c := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := c.Get(s.URL + "/api/server/public"); err == nil {
		t.Fatal("no timeout")
	}
	s.ClearFaults()
	expect(t, do(t, "GET", s.URL+"/api/server/public", nil), 200, "")
}

func TestDownUp(t *testing.T) {
	s := newSrv(t, Config{})
	url := s.URL
	expect(t, do(t, "GET", url+"/api/healthcheck", nil), 200, "")
	s.Down()
	if !s.IsDown() {
		t.Fatal("IsDown false")
	}
	c := &http.Client{Transport: &http.Transport{}} // no pooled connection
	_, err := c.Get(url + "/api/healthcheck")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("while down: %v, want connection refused", err)
	}
	if err := s.Up(); err != nil {
		t.Fatal(err)
	}
	if s.URL != url {
		t.Fatalf("URL changed: %s -> %s", url, s.URL)
	}
	expect(t, do(t, "GET", url+"/api/healthcheck", nil), 200, `{"pass":true}`)
	// Down cuts uploads in flight.
	s2 := newSrv(t, Config{UploadRateLimit: RateLimit{Off: true}})
	tok := s2.AddUser("a", "b", RoleUser).Token()
	s2.SetDelay("/api/upload", time.Hour)
	errc := make(chan error, 1)
	go func() {
		ct, body := mpBody(png("x.png"))
		req, _ := http.NewRequest("POST", s2.URL+"/api/upload", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", tok)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	waitFor(t, "the upload to arrive", 5*time.Second, func() bool { return s2.inFlight() > 0 })
	s2.Down()
	if err := <-errc; err == nil {
		t.Fatal("in-flight upload survived Down")
	}
	s2.ClearFaults()
	if err := s2.Up(); err != nil {
		t.Fatal(err)
	}
	expect(t, upload(t, s2, tok, nil, png("x.png")), 200, "")
}
