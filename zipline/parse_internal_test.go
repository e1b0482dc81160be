package zipline

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"100mb": 104857600, "25mb": 26214400, "95mb": 99614720, "100MB": 104857600,
		"1.5 GB": 1610612736, "4096": 4096, "10b": 10, "1kb": 1024, "1 tb": 1 << 40,
		"2pb": 2 << 50, " 7 KB ": 7168, "0.5kb": 512, "+3mb": 3 << 20, "1.9": 1,
	}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "mb", "1GiB", "-1mb", "1..2mb", ".5mb", "5.mb", "1e3", "abc", "10 zb", "99999999pb", "1mb2"} {
		if v, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, v)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"100mb", "1.5 GB", "4096", "1GiB", "", "9999999999999pb", "0.0001kb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s)
		if err == nil && v < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, v)
		}
		if err != nil && v != 0 {
			t.Fatalf("ParseSize(%q) = %d with error", s, v)
		}
	})
}

func TestParseErrorBody(t *testing.T) {
	cases := []struct {
		status int
		ct     string
		body   string
		code   int
		msg    string
	}{
		{401, "application/json", `{"error":"E2001: Invalid token","code":2001,"statusCode":401}`, 2001, "Invalid token"},
		{401, "application/json", `{"error":"not logged in","statusCode":401}`, 0, "not logged in"},
		{403, "application/json", `{"error":"no authorization","code":403}`, 0, "no authorization"},
		{404, "application/json", `{"message":"Route GET:/api/x not found","error":"Not Found","statusCode":404}`, 0, "Route GET:/api/x not found"},
		{500, "application/json", `{"error":"Internal Server Error","message":"db down","statusCode":500}`, 0, "db down"},
		{400, "application/json", `{"error":"E1044: Invalid username or password","statusCode":400}`, 1044, "Invalid username or password"},
		{413, "text/html", "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body><center><h1>413 Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>", 0, "413 Request Entity Too Large (from a proxy in front of Zipline)"},
		{502, "", "<!DOCTYPE html><html><body><h1>Bad &amp; gateway</h1></body></html>", 0, "Bad & gateway (from a proxy in front of Zipline)"},
		{503, "text/plain", "upstream connect error\nsecond line", 0, "upstream connect error"},
		{500, "", "", 0, ""},
		{400, "application/json", `{"error":42}`, 0, ""},
	}
	for _, c := range cases {
		code, msg := parseErrorBody(c.status, c.ct, []byte(c.body))
		if code != c.code || msg != c.msg {
			t.Errorf("parseErrorBody(%d, %q) = %d, %q; want %d, %q", c.status, c.body, code, msg, c.code, c.msg)
		}
	}
}

func TestAPIErrorIs(t *testing.T) {
	cases := []struct {
		e    APIError
		want error
	}{
		{APIError{Status: 401, Code: 2001}, ErrUnauthorized},
		{APIError{Status: 401, Code: 2000}, ErrUnauthorized},
		{APIError{Status: 403, Code: 3011}, ErrForbidden},
		{APIError{Status: 404, Code: 4000}, ErrNotFound},
		{APIError{Status: 413, Code: 5001}, ErrTooLarge},
		{APIError{Status: 413}, ErrTooLarge},
		{APIError{Status: 413, Code: 5002}, ErrQuota},
		{APIError{Status: 429}, ErrRateLimited},
		{APIError{Status: 400, Code: 1001}, ErrBadRequest},
		{APIError{Status: 400, Code: 1044}, ErrInvalidCredentials},
		{APIError{Status: 400, Message: "Invalid username or password"}, ErrInvalidCredentials},
		{APIError{Status: 400, Message: "Invalid password"}, ErrInvalidCredentials},
		{APIError{Status: 400, Message: "User does not have a password, login through a provider"}, ErrInvalidCredentials},
		{APIError{Status: 400, Code: 1045}, ErrInvalidTOTP},
		{APIError{Status: 400, Message: "Invalid code"}, ErrInvalidTOTP},
		{APIError{Status: 400, Code: 1062, tooLarge: true}, ErrTooLarge},
		{APIError{Status: 500, Code: 6001}, ErrServer},
		{APIError{Status: 502}, ErrServer},
		{APIError{Status: 415}, ErrBadRequest},
	}
	all := []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrTooLarge, ErrQuota, ErrRateLimited, ErrBadRequest, ErrServer, ErrInvalidCredentials, ErrInvalidTOTP}
	for _, c := range cases {
		e := c.e
		for _, s := range all {
			if got := errors.Is(&e, s); got != (s == c.want) {
				t.Errorf("errors.Is(%+v, %v) = %v", c.e, s, got)
			}
		}
		if msg := e.Error(); msg == "" || strings.Contains(msg, "\n") {
			t.Errorf("Error() of %+v = %q", c.e, msg)
		}
	}
	ra := &APIError{Status: 429, RetryAfter: 60 * time.Second}
	if !strings.Contains(ra.Error(), "retry in 1m0s") {
		t.Errorf("429 message %q does not say when to retry", ra.Error())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		x := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			x.Set(kv[i], kv[i+1])
		}
		return x
	}
	cases := []struct {
		h    http.Header
		want time.Duration
	}{
		{h("Retry-After", "60"), time.Minute},
		{h("Retry-After", "2"), 2 * time.Second},
		{h("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), 90 * time.Second},
		{h("Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), 0},
		{h("X-Ratelimit-Reset", "30"), 30 * time.Second},
		{h("Retry-After", "junk", "X-Ratelimit-Reset", "5"), 5 * time.Second},
		{h("Retry-After", "1e300"), maxRetryAfter},
		{h(), 0},
	}
	for _, c := range cases {
		if got := parseRetryAfter(c.h, now); got != c.want {
			t.Errorf("parseRetryAfter(%v) = %v, want %v", c.h, got, c.want)
		}
	}
}

func FuzzParseError(f *testing.F) {
	f.Add(401, "application/json", []byte(`{"error":"E2001: Invalid token","code":2001,"statusCode":401}`))
	f.Add(413, "text/html", []byte("<html><head><title>413 Request Entity Too Large</title></head></html>"))
	f.Add(404, "application/json", []byte(`{"message":"Route GET:/api/x not found","error":"Not Found","statusCode":404}`))
	f.Add(403, "application/json", []byte(`{"error":"no authorization","code":403}`))
	f.Add(400, "", []byte(`{"error":"E99999999999: x","code":1e308}`))
	f.Add(500, "text/plain", []byte("\xff\xfe<title>"))
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte) {
		const secret = "SECRET-TOKEN-1234"
		b := append([]byte(secret), body...)
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ct}, "Retry-After": {string(body[:min(len(body), 20)])}}}
		e := parseError(resp, b, secret)
		msg := e.Error()
		if strings.Contains(msg, secret) {
			t.Fatalf("secret in %q", msg)
		}
		if !utf8.ValidString(e.Message) || strings.ContainsAny(e.Message, "\r\n") {
			t.Fatalf("message not one clean line: %q", e.Message)
		}
		if utf8.RuneCountInString(e.Message) > 400 {
			t.Fatalf("message too long: %d runes", utf8.RuneCountInString(e.Message))
		}
		if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
			t.Fatalf("RetryAfter %v", e.RetryAfter)
		}
		if e.Code != 0 && e.Code < 1000 {
			t.Fatalf("code %d", e.Code)
		}
	})
}

func TestParseUploadReply(t *testing.T) {
	r, err := parseUploadReply([]byte(`{"files":[{"id":"cm1","name":"jORG5d.png","type":"image/png","url":"http://h/u/jORG5d.png"}],"deletesAt":"2026-07-01T00:00:00.000Z"}`))
	if err != nil || len(r.Files) != 1 || r.Files[0].ID != "cm1" || r.Files[0].Name != "jORG5d.png" || r.Files[0].URL != "http://h/u/jORG5d.png" || r.Files[0].DeletesAt != "2026-07-01T00:00:00.000Z" {
		t.Fatalf("v4 reply: %+v, %v", r, err)
	}
	r, err = parseUploadReply([]byte(`{"files":[],"partialSuccess":true,"partialIdentifier":"TlA9T9Am"}`))
	if err != nil || !r.PartialSuccess || r.PartialIdentifier != "TlA9T9Am" || len(r.Files) != 0 {
		t.Fatalf("partial reply: %+v, %v", r, err)
	}
	r, err = parseUploadReply([]byte(`{"files":[{"id":"x","url":"u","pending":true}],"partialSuccess":true,"partialToken":"tok"}`))
	if err != nil || r.PartialToken != "tok" || !r.Files[0].Pending {
		t.Fatalf("token reply: %+v, %v", r, err)
	}
	r, err = parseUploadReply([]byte("https://h/u/a.png,https://h/u/b.jpg"))
	if err != nil || len(r.Files) != 2 || r.Files[1].URL != "https://h/u/b.jpg" {
		t.Fatalf("no-json reply: %+v, %v", r, err)
	}
	r, err = parseUploadReply([]byte(`{"files":["https://h/u/a.png"]}`))
	if err != nil || r.Files[0].URL != "https://h/u/a.png" {
		t.Fatalf("v3 reply: %+v, %v", r, err)
	}
	for _, bad := range []string{"", "<html>", `{"files":[3]}`, `{"files":{}}`} {
		if _, err := parseUploadReply([]byte(bad)); err == nil {
			t.Errorf("parseUploadReply(%q) accepted", bad)
		}
	}
}

func FuzzUploadResponse(f *testing.F) {
	f.Add([]byte(`{"files":[{"id":"cm1","name":"a.png","type":"image/png","url":"http://h/u/a.png"}]}`))
	f.Add([]byte(`{"files":[],"partialSuccess":true,"partialToken":"t"}`))
	f.Add([]byte("https://h/u/a.png"))
	f.Add([]byte(`{"files":[null,"x",{"id":1}],"deletesAt":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseUploadReply(b)
		if err == nil && r == nil {
			t.Fatal("nil reply without error")
		}
	})
}

func FuzzPublicInfo(f *testing.F) {
	f.Add([]byte(`{"files":{"maxFileSize":"100mb","defaultFormat":"random","maxExpiration":null},"chunks":{"max":"95mb","size":"25mb","enabled":true},"firstSetup":false,"domains":[],"returnHttps":false}`))
	f.Add([]byte(`{"files":{"maxFileSize":"1GiB"},"chunks":{"max":0,"size":-5,"enabled":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pi, _, ok := parsePublic(b)
		if !ok {
			return
		}
		l := pi.limits()
		if l.MaxFileSize <= 0 || l.ChunkSize <= 0 || l.ChunkMin <= 0 {
			t.Fatalf("limits %+v from %s", l, b)
		}
	})
}

func TestNormalizeServer(t *testing.T) {
	cases := map[string]string{
		"zipline.example.com":                         "https://zipline.example.com",
		"https://Zipline.Example.com/":                "https://zipline.example.com",
		"https://z.example.com/api/upload":            "https://z.example.com",
		"https://z.example.com/dashboard/files?x=1#y": "https://z.example.com",
		"http://127.0.0.1:3000":                       "http://127.0.0.1:3000",
		" https://z.example.com/zipline/api/upload ":  "https://z.example.com/zipline",
		"https://z.example.com/auth/login":            "https://z.example.com",
		"HTTPS://[::1]:8443/u/abc.png":                "https://[::1]:8443",
	}
	for in, want := range cases {
		u, err := normalizeServer(in)
		if err != nil || u.String() != want {
			t.Errorf("normalizeServer(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x", "https://", "https://user:pw@host", "http://"} {
		if u, err := normalizeServer(bad); err == nil {
			t.Errorf("normalizeServer(%q) = %v, want an error", bad, u)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for h, want := range map[string]bool{"127.0.0.1": true, "127.5.6.7": true, "::1": true, "localhost": true, "LOCALHOST": true,
		"10.0.0.1": false, "example.com": false, "localhost.example.com": false, "128.0.0.1": false, "::2": false} {
		if got := isLoopback(h); got != want {
			t.Errorf("isLoopback(%q) = %v", h, got)
		}
	}
}

func TestMultipartLength(t *testing.T) {
	// The dry run must equal what writeParts really produces.
	var sb strings.Builder
	parts := []part{
		filePart("a b.png", "image/png", 5, openString("hello")),
		filePart("ü\"x.txt", "text/plain", 0, openString("")),
		filePart("c", "application/octet-stream", 3, openString("xyz")),
	}
	mw := newTestWriter(&sb, "BOUNDARY")
	if err := writeParts(mw, parts, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := multipartLength("BOUNDARY", parts), int64(sb.Len()); got != want {
		t.Fatalf("multipartLength = %d, body is %d bytes", got, want)
	}
	if !strings.Contains(sb.String(), `filename="a%20b.png"`) || !strings.Contains(sb.String(), `filename="%C3%BC%22x.txt"`) {
		t.Fatalf("filenames not percent-encoded:\n%s", sb.String())
	}
}
