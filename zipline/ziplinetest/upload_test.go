package ziplinetest

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestUploadBasics(t *testing.T) {
	s := newSrv(t, Config{UploadRateLimit: RateLimit{Off: true}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()

	a, b := png("a.png"), part{field: "other", filename: "b.txt", ctype: "text/plain", data: []byte("bee")}
	r := upload(t, s, tok, []string{"Host", "files.example:8080"}, a, b)
	expect(t, r, 200, "")
	files := r.json(t)["files"].([]any)
	if len(files) != 2 {
		t.Fatalf("files %v", files)
	}
	f0 := files[0].(map[string]any)
	name := f0["name"].(string)
	if f0["type"] != "image/png" || f0["url"] != "http://files.example:8080/u/"+name || !strings.HasSuffix(name, ".png") || len(name) != 10 {
		t.Fatalf("file 0 %v", f0)
	}
	if !strings.HasPrefix(r.body, `{"files":[{"id":"`) || !strings.Contains(r.body, `","name":"`+name+`","type":"image/png","url":"`) {
		t.Fatalf("key order: %s", r.body)
	}
	rec := s.Files()
	if len(rec) != 2 || rec[0].Name != name || rec[0].SHA256 != sha(a.data) || rec[0].Size != int64(len(a.data)) ||
		rec[0].Owner != "alice" || !rec[0].Complete || rec[0].Filename != "a.png" || rec[0].OriginalName != "" ||
		rec[1].Type != "text/plain" || rec[1].SHA256 != sha(b.data) {
		t.Fatalf("records %+v", rec)
	}
	for _, prefix := range []string{"/u/", "/raw/"} {
		got := do(t, "GET", s.URL+prefix+name, nil)
		if got.status != 200 || got.body != string(a.data) || got.header.Get("Content-Type") != "image/png" || got.header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("GET %s: %d %q %v", prefix, got.status, got.body, got.header)
		}
	}
	expect(t, do(t, "GET", s.URL+"/raw/nope.png", nil), 404, "")

	// no-json and original-name.
	r = upload(t, s, tok, []string{"x-zipline-no-json", "true", "x-zipline-original-name", "true"}, png("second.png"))
	if r.status != 200 || r.header.Get("Content-Type") != "text/plain" || !strings.HasPrefix(r.body, s.URL+"/u/") || strings.Contains(r.body, "{") {
		t.Fatalf("no-json: %d %q %v", r.status, r.body, r.header)
	}
	r = upload(t, s, tok, []string{"x-zipline-no-json", "true"}, png("1.png"), png("2.png"))
	if strings.Count(r.body, ",") != 1 {
		t.Fatalf("no-json list %q", r.body)
	}
	if f, _ := s.FileByName(strings.TrimPrefix(upload(t, s, tok, []string{"x-zipline-no-json", "true", "x-zipline-original-name", "true"}, png("orig.png")).body, s.URL+"/u/")); f.OriginalName != "orig.png" || f.Options.Get("X-Zipline-Original-Name") != "true" {
		t.Fatalf("original name record %+v", f)
	}

	// The part's Content-Type is stored as sent (Go's CreateFormFile: octet-stream).
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", "shot.png")
	w.Write([]byte("x"))
	mw.Close()
	r = do(t, "POST", s.URL+"/api/upload", &buf, "Content-Type", mw.FormDataContentType(), "Authorization", tok)
	if r.json(t)["files"].([]any)[0].(map[string]any)["type"] != "application/octet-stream" {
		t.Fatalf("CreateFormFile type: %s", r.body)
	}

	// Percent-decoded filenames; a raw % breaks the upload.
	r = upload(t, s, tok, []string{"x-zipline-format", "name"}, part{filename: "caf%C3%A9%20menu.txt", ctype: "text/plain", data: []byte("x")})
	if r.status != 200 || r.json(t)["files"].([]any)[0].(map[string]any)["name"] != "café menu.txt" ||
		!strings.HasSuffix(r.json(t)["files"].([]any)[0].(map[string]any)["url"].(string), "/u/caf%C3%A9%20menu.txt") {
		t.Fatalf("decoded name: %s", r.body)
	}
	expect(t, upload(t, s, tok, nil, part{filename: "100%.txt", ctype: "text/plain", data: []byte("x")}), 400,
		`{"error":"E1009: invalid file name: make sure it is URL encoded","code":1009,"statusCode":400}`)

	// Not multipart / no file parts.
	expect(t, do(t, "POST", s.URL+"/api/upload", strings.NewReader("{}"), "Authorization", tok, "Content-Type", "application/json"), 400,
		`{"error":"E1062: No files in multipart/form-data request","code":1062,"statusCode":400}`)
	expect(t, do(t, "POST", s.URL+"/api/upload", strings.NewReader("x"), "Authorization", tok, "Content-Type", "application/octet-stream"), 415, "")
	var empty bytes.Buffer
	mw = multipart.NewWriter(&empty)
	mw.WriteField("just", "a field")
	mw.Close()
	expect(t, do(t, "POST", s.URL+"/api/upload", &empty, "Authorization", tok, "Content-Type", mw.FormDataContentType()), 400,
		`{"error":"E1062: No files in multipart/form-data request","code":1062,"statusCode":400}`)

	// Auth.
	expect(t, upload(t, s, "", nil, png("x.png")), 401, `{"error":"E2000: Invalid login session","code":2000,"statusCode":401}`)
	expect(t, upload(t, s, "not-a-real-token", nil, png("x.png")), 401, `{"error":"E2001: Invalid token","code":2001,"statusCode":401}`)
	expect(t, upload(t, s, tok, []string{"Content-Range", "bytes 0-72/73"}, png("x.png")), 400,
		`{"error":"E1001: bad options, receieved: partial upload","code":1001,"statusCode":400}`)

	// Requests are recorded with their body size.
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != "POST" || last.Path != "/api/upload" || last.Status != 400 || last.BodyBytes <= 0 || last.Header.Get("Content-Range") == "" {
		t.Fatalf("last request %+v", last)
	}
}

func TestUploadOptions(t *testing.T) {
	s := newSrv(t, Config{UploadRateLimit: RateLimit{Off: true}, MaxExpiration: "30d"})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	bad := func(header, value, msg string) {
		t.Helper()
		expect(t, upload(t, s, tok, []string{header, value}, png("x.png")), 400,
			`{"error":"E1001: bad options[`+header+`]: `+msg+`","code":1001,"statusCode":400}`)
	}
	bad("x-zipline-format", "weird", "Invalid format")
	bad("x-zipline-deletes-at", "banana", "Invalid expiry date")
	bad("x-zipline-deletes-at", "0", "Invalid expiry date")
	bad("x-zipline-deletes-at", "date=2001-01-01T00:00:00Z", "Invalid expiry date")
	bad("x-zipline-deletes-at", "1y", "Expiry exceeds maximum allowed expiration of 30d")
	bad("x-zipline-image-compression-percent", "101", "Invalid percent (must be between 0 and 100)")
	bad("x-zipline-image-compression-percent", "abc", "Invalid percent (must be between 0 and 100)")
	bad("x-zipline-image-compression-type", "gif", "Invalid compression type")
	bad("x-zipline-max-views", "many", "Invalid max views")
	bad("x-zipline-file-extension", "../x", "Invalid file extension")
	bad("x-zipline-domain", "https://a.example/x", "Invalid domain")
	expect(t, upload(t, s, tok, []string{"x-zipline-filename", "../evil"}, png("x.png")), 400,
		`{"error":"E1007: Invalid characters in filename","code":1007,"statusCode":400}`)
	expect(t, upload(t, s, tok, []string{"x-zipline-folder", "nope"}, png("x.png")), 404,
		`{"error":"E4001: Folder not found","code":4001,"statusCode":404}`)

	future := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Millisecond)
	for _, v := range []string{"30m", "2h", "1d", "1.5h", "10 days", "1w", "3600000", "date=" + future.Format(time.RFC3339Nano)} {
		r := upload(t, s, tok, []string{"x-zipline-deletes-at", v}, png("x.png"))
		if r.status != 200 || r.json(t)["deletesAt"] == nil {
			t.Fatalf("deletes-at %q: %d %s", v, r.status, r.body)
		}
	}
	r := upload(t, s, tok, []string{"x-zipline-deletes-at", "date=" + future.Format(time.RFC3339Nano)}, png("x.png"))
	if r.json(t)["deletesAt"] != isoTime(future) {
		t.Fatalf("deletesAt %s, want %s", r.body, isoTime(future))
	}
	if r := upload(t, s, tok, []string{"x-zipline-deletes-at", "never"}, png("x.png")); !strings.HasSuffix(r.body, `,"deletesAt":"never"}`) {
		t.Fatalf("never: %s", r.body)
	}

	// Names.
	r = upload(t, s, tok, []string{"x-zipline-filename", "report", "x-zipline-file-extension", "pdf"}, png("x.png"))
	if r.json(t)["files"].([]any)[0].(map[string]any)["name"] != "report.pdf" {
		t.Fatalf("filename override: %s", r.body)
	}
	expect(t, upload(t, s, tok, []string{"x-zipline-filename", "report", "x-zipline-file-extension", ".pdf"}, png("x.png")), 400,
		`{"error":"E1009: file[0]: file with the same name already exists","code":1009,"statusCode":400}`)
	r = upload(t, s, tok, []string{"x-zipline-format", "name"}, part{filename: "backup.tar.gz", ctype: "application/gzip", data: []byte("z")})
	if r.json(t)["files"].([]any)[0].(map[string]any)["name"] != "backup.tar.gz" {
		t.Fatalf("name format: %s", r.body)
	}
	expect(t, upload(t, s, tok, []string{"x-zipline-format", "name"}, part{filename: "backup.tar.gz", ctype: "application/gzip", data: []byte("z")}), 400, "")
	for format, check := range map[string]func(string) bool{
		"uuid":   func(n string) bool { return len(n) == 36+4 && n[8] == '-' && n[14] == '4' },
		"date":   func(n string) bool { return strings.HasPrefix(n, time.Now().Format("2006-01-")) },
		"gfycat": func(n string) bool { return strings.Count(n, "-") == 2 },
		"random": func(n string) bool { return len(n) == 10 },
	} {
		r := upload(t, s, tok, []string{"x-zipline-format", format}, png("x.png"))
		if n := r.json(t)["files"].([]any)[0].(map[string]any)["name"].(string); !check(n) {
			t.Fatalf("format %s gave %q", format, n)
		}
	}
	r = upload(t, s, tok, []string{"x-zipline-domain", "i.example.com"}, png("x.png"))
	if u := r.json(t)["files"].([]any)[0].(map[string]any)["url"].(string); !strings.HasPrefix(u, "http://i.example.com/u/") {
		t.Fatalf("domain url %s", u)
	}
	r = upload(t, s, tok, []string{"x-zipline-max-views", "3", "x-zipline-password", "pw", "x-zipline-image-compression-percent", "50", "x-zipline-image-compression-type", "webp"}, png("x.png"))
	f, _ := s.FileByName(r.json(t)["files"].([]any)[0].(map[string]any)["name"].(string))
	if f.MaxViews != 3 || f.Password != "pw" || f.Options.Get("X-Zipline-Image-Compression-Type") != "webp" {
		t.Fatalf("record %+v", f)
	}

	// The ≤4.4 wording of the same errors (transcript §24).
	old := newSrv(t, Config{Version: "4.4"})
	otok := old.AddUser("a", "b", RoleAdmin).Token()
	expect(t, upload(t, old, otok, []string{"x-zipline-deletes-at", "banana"}, png("c.png")), 400,
		`{"error":"bad options: [x-zipline-deletes-at]: Invalid expiry date","statusCode":400}`)
	expect(t, upload(t, old, otok, []string{"x-zipline-deletes-at", "never"}, png("c.png")), 400, "") // never: ≥4.4.1
	expect(t, upload(t, old, "", nil, png("c.png")), 401, `{"error":"not logged in","statusCode":401}`)

	// 4.8 decodes and checks x-zipline-filename while parsing headers.
	d := newSrv(t, Config{Version: "4.8"})
	dtok := d.AddUser("a", "b", RoleAdmin).Token()
	expect(t, upload(t, d, dtok, []string{"x-zipline-filename", "bad%zz"}, png("x.png")), 400,
		`{"error":"E1001: bad options[x-zipline-filename]: Invalid URL-encoded filename","code":1001,"statusCode":400}`)
	r = upload(t, d, dtok, []string{"x-zipline-filename", "caf%C3%A9"}, png("x.png"))
	if r.json(t)["files"].([]any)[0].(map[string]any)["name"] != "café.png" {
		t.Fatalf("4.8 filename: %s", r.body)
	}
}

func TestUploadTooLargeAndQuota(t *testing.T) {
	s := newSrv(t, Config{MaxFileSize: 1000, UploadRateLimit: RateLimit{Off: true}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	expect(t, upload(t, s, tok, nil, part{filename: "ok.bin", ctype: "application/octet-stream", data: make([]byte, 1000)}), 200, "")
	// Over maxFileSize: the part is truncated and the server says "no files".
	expect(t, upload(t, s, tok, nil, png("small.png"), part{filename: "big.bin", ctype: "application/octet-stream", data: make([]byte, 1001)}), 400,
		`{"error":"E1062: No files in multipart/form-data request","code":1062,"statusCode":400}`)
	if n := len(s.Files()); n != 1 {
		t.Fatalf("%d files stored", n)
	}
	if err := s.SetQuota("alice", &Quota{MaxFiles: 2}); err != nil {
		t.Fatal(err)
	}
	expect(t, upload(t, s, tok, nil, png("2.png")), 200, "")
	expect(t, upload(t, s, tok, nil, png("3.png")), 413,
		`{"error":"E5002: uploading will exceed your file count quota of 2 files","code":5002,"statusCode":413}`)
	s.SetQuota("alice", &Quota{MaxBytes: 1500})
	r := upload(t, s, tok, nil, part{filename: "x.bin", ctype: "application/octet-stream", data: make([]byte, 600)})
	if r.status != 413 || r.json(t)["code"] != 5002.0 {
		t.Fatalf("byte quota: %d %s", r.status, r.body)
	}
	if q := do(t, "GET", s.URL+"/api/user", nil, "Authorization", tok).json(t)["user"].(map[string]any)["quota"].(map[string]any); q["filesQuota"] != "BY_BYTES" || q["maxBytes"] != "1500" {
		t.Fatalf("quota %v", q)
	}
}

func TestUploadRateLimit(t *testing.T) {
	s := newSrv(t, Config{})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	admin := s.AddUser("root", "pw", RoleAdmin).Token()
	for i := 1; i <= 10; i++ {
		r := upload(t, s, tok, nil, png("x.png"))
		if r.status != 200 || r.header.Get("X-Ratelimit-Limit") != "10" || r.header.Get("X-Ratelimit-Remaining") != itoa(10-i) {
			t.Fatalf("upload %d: %d %v", i, r.status, r.header)
		}
	}
	r := upload(t, s, tok, nil, png("x.png"))
	// 60 s unless the machine stalled for over a second since the first upload.
	if r.header.Get("X-Ratelimit-Reset") == "60" {
		expect(t, r, 429, `{"error":"Rate limit exceeded, retry in 1 minute","statusCode":429}`)
	} else {
		expect(t, r, 429, `{"error":"Rate limit exceeded, retry in `+r.header.Get("X-Ratelimit-Reset")+` seconds","statusCode":429}`)
	}
	for h, v := range map[string]string{"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0", "Retry-After": r.header.Get("X-Ratelimit-Reset")} {
		if r.header.Get(h) != v {
			t.Fatalf("%s = %q, want %q", h, r.header.Get(h), v)
		}
	}
	for i := 0; i < 12; i++ {
		if r := upload(t, s, admin, nil, png("x.png")); r.status != 200 || r.header.Get("X-Ratelimit-Limit") != "" {
			t.Fatalf("admin upload %d: %d %v", i, r.status, r.header)
		}
	}
	// Chunks (x-zipline-p-filename) are exempt on ≤4.7.
	ct, body := mpBody(part{filename: "blob", ctype: "application/octet-stream", data: []byte("abc")})
	r = do(t, "POST", s.URL+"/api/upload/partial", bytes.NewReader(body), "Content-Type", ct, "Authorization", tok,
		"Content-Range", "bytes 0-3/6", "x-zipline-p-filename", "a.bin", "x-zipline-p-content-type", "application/octet-stream", "x-zipline-p-lastchunk", "false")
	expect(t, r, 200, "")
	// URL shortening is limited too, in its own bucket (the key has the URL).
	for i := 0; i <= 10; i++ {
		want := 200
		if i == 10 {
			want = 429
		}
		expect(t, do(t, "POST", s.URL+"/api/user/urls", strings.NewReader(`{"destination":"https://example.com"}`), "Authorization", tok, "Content-Type", "application/json"), want, "")
	}

	// A short window for tests: wait for it to pass.
	s.SetUploadRateLimit(RateLimit{Max: 1, Window: 1500 * time.Millisecond})
	expect(t, upload(t, s, tok, nil, png("x.png")), 200, "")
	r = upload(t, s, tok, nil, png("x.png"))
	if r.status != 429 || !strings.HasPrefix(r.body, `{"error":"Rate limit exceeded, retry in `) {
		t.Fatalf("short window: %d %s", r.status, r.body)
	}
	waitFor(t, "the window to pass", 10*time.Second, func() bool { return upload(t, s, tok, nil, png("x.png")).status == 200 })
	s.SetUploadRateLimit(RateLimit{Off: true})
	for i := 0; i < 15; i++ {
		expect(t, upload(t, s, tok, nil, png("x.png")), 200, "")
	}
}

func TestUploadStreamsWithoutLength(t *testing.T) {
	s := newSrv(t, Config{HashOnly: true, UploadRateLimit: RateLimit{Off: true}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	data := randomBytes(3 << 20)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, _ := mw.CreateFormFile("file", "big.bin")
		for off := 0; off < len(data); off += 64 << 10 {
			w.Write(data[off : off+64<<10])
		}
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", s.URL+"/api/upload", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	f := s.Files()
	if res.StatusCode != 200 || len(f) != 1 || f[0].SHA256 != sha(data) || f[0].Size != int64(len(data)) || f[0].Path != "" || s.StoreDir() != "" {
		t.Fatalf("%d %+v", res.StatusCode, f)
	}
	expect(t, do(t, "GET", s.URL+"/raw/"+f[0].Name, nil), 404, "")
}

func TestSeveralFilesOneRequestNames(t *testing.T) {
	s := New(t, Config{UploadRateLimit: RateLimit{Off: true}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	r := upload(t, s, tok, []string{"x-zipline-format", "date"}, png("a.png"), png("b.png"))
	fs := r.json(t)["files"].([]any)
	if r.status != 200 || fs[0].(map[string]any)["name"] == fs[1].(map[string]any)["name"] {
		t.Fatalf("date names: %s", r.body)
	}
	expect(t, upload(t, s, tok, []string{"x-zipline-format", "name"}, png("same.png"), png("same.png")), 400,
		`{"error":"E1009: file[1]: file with the same name already exists","code":1009,"statusCode":400}`)
	if len(s.Files()) != 2 {
		t.Fatalf("%d files", len(s.Files()))
	}
}
