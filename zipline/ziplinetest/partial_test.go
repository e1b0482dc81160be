package ziplinetest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

type chunkReq struct {
	start, end, total int64
	data              []byte
	hdr               []string
}

func sendChunk(t *testing.T, s *Server, tok string, c chunkReq) resp {
	t.Helper()
	ct, body := mpBody(part{filename: "blob", ctype: "application/octet-stream", data: c.data})
	h := []string{"Content-Type", ct, "Content-Range", fmt.Sprintf("bytes %d-%d/%d", c.start, c.end, c.total),
		"x-zipline-p-filename", "big%20file.bin", "x-zipline-p-content-type", "application/octet-stream",
		"x-zipline-p-content-length", itoa64(c.total)}
	if tok != "" {
		h = append(h, "Authorization", tok)
	}
	h = append(h, c.hdr...)
	return do(t, "POST", s.URL+"/api/upload/partial", bytes.NewReader(body), h...)
}

// chunked uploads data in the given chunk sizes the way a client of that
// generation does, and returns every response.
func chunked(t *testing.T, s *Server, tok string, data []byte, sizes []int, inclusive bool) []resp {
	t.Helper()
	var out []resp
	var off int64
	total := int64(len(data))
	var ident, token string
	for i, n := range sizes {
		end := off + int64(n)
		if inclusive {
			end--
		}
		last := i == len(sizes)-1
		hdr := []string{"x-zipline-p-lastchunk", fmt.Sprint(last)}
		if ident != "" {
			hdr = append(hdr, "x-zipline-p-identifier", ident)
		}
		if token != "" {
			hdr = append(hdr, "x-zipline-p-token", token)
		}
		r := sendChunk(t, s, tok, chunkReq{off, end, total, data[off : off+int64(n)], hdr})
		out = append(out, r)
		if r.status != 200 {
			return out
		}
		m := r.json(t)
		if v, ok := m["partialIdentifier"].(string); ok {
			ident = v
		}
		if v, ok := m["partialToken"].(string); ok {
			token = v
		}
		off += int64(n)
	}
	return out
}

func plan(total, first, size int) []int {
	var out []int
	if first > 0 {
		out = append(out, first)
		total -= first
	}
	for total > 0 {
		n := min(size, total)
		out = append(out, n)
		total -= n
	}
	return out
}

func waitComplete(t *testing.T, s *Server, tok, fileID string) map[string]any {
	t.Helper()
	var rec map[string]any
	waitFor(t, "COMPLETE in /api/user/files/incomplete", 10*time.Second, func() bool {
		r := do(t, "GET", s.URL+"/api/user/files/incomplete", nil, "Authorization", tok)
		for _, x := range jsonList(t, r.body) {
			m := x.(map[string]any)
			if m["metadata"].(map[string]any)["file"].(map[string]any)["id"] == fileID {
				rec = m
				if m["status"] == "FAILED" {
					t.Fatalf("upload failed: %v", m)
				}
				return m["status"] == "COMPLETE"
			}
		}
		return false
	})
	return rec
}

func TestChunkedGenerationB(t *testing.T) {
	for _, inclusive := range []bool{false, true} {
		t.Run(fmt.Sprintf("inclusive=%v", inclusive), func(t *testing.T) {
			s := newSrv(t, Config{Version: "4.6", ProcessingDelay: 50 * time.Millisecond})
			tok := s.AddUser("alice", "pw", RoleUser).Token()
			data := randomBytes(60 << 10)
			rs := chunked(t, s, tok, data, plan(len(data), 0, 25<<10), inclusive)
			if len(rs) != 3 {
				t.Fatalf("%d responses", len(rs))
			}
			if !regexpMatch(`^\{"files":\[\],"partialSuccess":true,"partialIdentifier":"[A-Za-z0-9]{8}"\}$`, rs[0].body) {
				t.Fatalf("first: %s", rs[0].body)
			}
			expect(t, rs[1], 200, `{"files":[],"partialSuccess":true}`)
			f := rs[2].json(t)["files"].([]any)[0].(map[string]any)
			name := f["name"].(string)
			if !regexpMatch(`^\{"files":\[\{"id":"[a-z0-9]+","name":"[A-Za-z0-9]{6}\.bin","type":"application/octet-stream","url":"http://127\.0\.0\.1:\d+/u/[A-Za-z0-9]{6}\.bin","pending":true\}\],"partialSuccess":true\}$`, rs[2].body) {
				t.Fatalf("final: %s", rs[2].body)
			}
			// Not listed until complete; then listed with the right bytes.
			rec := waitComplete(t, s, tok, f["id"].(string))
			if rec["chunksTotal"] != 3.0 || rec["chunksComplete"] != 3.0 {
				t.Fatalf("incomplete record %v", rec)
			}
			got := do(t, "GET", s.URL+"/raw/"+name, nil)
			if got.body != string(data) {
				t.Fatal("assembled bytes differ")
			}
			file, _ := s.FileByName(name)
			if file.SHA256 != sha(data) || file.Size != int64(len(data)) || !file.Chunked || file.Filename != "big file.bin" {
				t.Fatalf("record %+v", file)
			}
			one := do(t, "GET", s.URL+"/api/user/files/"+file.ID, nil, "Authorization", tok).json(t)
			if one["size"] != float64(len(data)) || one["name"] != name {
				t.Fatalf("file %v", one)
			}
		})
	}
}

func TestChunkedPendingHidden(t *testing.T) {
	s := newSrv(t, Config{ProcessingDelay: time.Hour})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	rs := chunked(t, s, tok, randomBytes(1000), []int{400, 600}, false)
	id := rs[1].json(t)["files"].([]any)[0].(map[string]any)["id"].(string)
	inc := jsonList(t, do(t, "GET", s.URL+"/api/user/files/incomplete", nil, "Authorization", tok).body)
	if len(inc) != 1 || inc[0].(map[string]any)["status"] != "PENDING" {
		t.Fatalf("incomplete %v", inc)
	}
	if !strings.Contains(do(t, "GET", s.URL+"/api/user/files?page=1", nil, "Authorization", tok).body, `"total":0`) {
		t.Fatal("pending file listed")
	}
	if f := s.Files(); len(f) != 1 || f[0].Complete || f[0].ID != id {
		t.Fatalf("records %+v", f)
	}
	incID := inc[0].(map[string]any)["id"].(string)
	expect(t, do(t, "DELETE", s.URL+"/api/user/files/incomplete", strings.NewReader(`{"id":["`+incID+`"]}`), "Authorization", tok, "Content-Type", "application/json"), 200, `{"count":1}`)
	expect(t, do(t, "GET", s.URL+"/api/user/files/incomplete", nil, "Authorization", tok), 200, `[]`)
}

func TestChunkedErrorsB(t *testing.T) {
	s := newSrv(t, Config{})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	ct, body := mpBody(png("a.png"))
	expect(t, do(t, "POST", s.URL+"/api/upload/partial", bytes.NewReader(body), "Content-Type", ct, "Authorization", tok), 400,
		`{"error":"E1004: Partial upload was not detected","code":1004,"statusCode":400}`)
	expect(t, sendChunk(t, s, tok, chunkReq{10, 20, 30, make([]byte, 10), nil}), 400,
		`{"error":"E1003: Partial upload identifier is invalid","code":1003,"statusCode":400}`)
	expect(t, sendChunk(t, s, tok, chunkReq{10, 20, 30, make([]byte, 10), []string{"x-zipline-p-identifier", "nope1234"}}), 400,
		`{"error":"E1003: Partial upload identifier is invalid","code":1003,"statusCode":400}`)
	ct, body = mpBody(png("a.png"), png("b.png"))
	expect(t, do(t, "POST", s.URL+"/api/upload/partial", bytes.NewReader(body), "Content-Type", ct, "Authorization", tok,
		"Content-Range", "bytes 0-10/20", "x-zipline-p-filename", "a.bin"), 400,
		`{"error":"E1005: Partial uploads only support one file field","code":1005,"statusCode":400}`)
	expect(t, sendChunk(t, s, "", chunkReq{0, 10, 30, make([]byte, 10), nil}), 401,
		`{"error":"E2000: Invalid login session","code":2000,"statusCode":401}`)
	expect(t, sendChunk(t, s, "not-a-real-token", chunkReq{0, 10, 30, make([]byte, 10), nil}), 401,
		`{"error":"E2001: Invalid token","code":2001,"statusCode":401}`)
	// Another user's identifier is unknown to you.
	other := s.AddUser("bob", "pw", RoleUser).Token()
	id := sendChunk(t, s, tok, chunkReq{0, 10, 30, make([]byte, 10), nil}).json(t)["partialIdentifier"].(string)
	expect(t, sendChunk(t, s, other, chunkReq{10, 20, 30, make([]byte, 10), []string{"x-zipline-p-identifier", id}}), 400, "")
	// 4.2 (generation A) has no partial route.
	old := newSrv(t, Config{Version: "4.2"})
	expect(t, sendChunk(t, old, old.AddUser("a", "b", RoleUser).Token(), chunkReq{0, 10, 30, make([]byte, 10), nil}), 404,
		`{"message":"Route POST:/api/upload/partial not found","error":"Not Found","statusCode":404}`)
}

// §9: the first chunk counts twice against maxFileSize (scaled 1024×down:
// 100 KiB limit, 25 KiB chunks, a 96 KiB file).
func TestFirstChunkDoubleCount(t *testing.T) {
	for _, v := range []string{"4.4", "4.6"} {
		t.Run(v, func(t *testing.T) {
			s := newSrv(t, Config{Version: v, MaxFileSize: 100 << 10, ChunkSize: 25 << 10})
			tok := s.AddUser("alice", "pw", RoleUser).Token()
			data := randomBytes(96 << 10)
			rs := chunked(t, s, tok, data, plan(len(data), 0, 25<<10), false)
			if len(rs) != 4 || rs[3].status != 413 {
				t.Fatalf("want 413 on chunk 4, got %d responses, last %d %s", len(rs), rs[len(rs)-1].status, rs[len(rs)-1].body)
			}
			want := `{"error":"E5001: File is too large","code":5001,"statusCode":413}`
			if v == "4.4" {
				want = `{"error":"File is too large","statusCode":413}`
			}
			expect(t, rs[3], 413, want)
			// The whole upload is gone.
			id := rs[0].json(t)["partialIdentifier"].(string)
			r := sendChunk(t, s, tok, chunkReq{75 << 10, 96 << 10, 96 << 10, data[75<<10:], []string{"x-zipline-p-identifier", id, "x-zipline-p-lastchunk", "true"}})
			expect(t, r, 400, "")
			// An 80 KiB file fails the same way (transcript: 25+25+25+25+5 > 100).
			rs = chunked(t, s, tok, randomBytes(80<<10), plan(80<<10, 0, 25<<10), false)
			if len(rs) != 4 || rs[3].status != 413 {
				t.Fatalf("80 KiB: %d responses, last %d", len(rs), rs[len(rs)-1].status)
			}
			// A 640-byte first chunk gets the full limit back.
			rs = chunked(t, s, tok, data, plan(len(data), 640, 25<<10), false)
			last := rs[len(rs)-1]
			if last.status != 200 {
				t.Fatalf("small first chunk: %d %s", last.status, last.body)
			}
			waitComplete(t, s, tok, last.json(t)["files"].([]any)[0].(map[string]any)["id"].(string))
			if f := s.Files(); f[len(f)-1].SHA256 != sha(data) {
				t.Fatal("bytes differ")
			}
		})
	}
	fixed := newSrv(t, Config{MaxFileSize: 100 << 10, FixFirstChunkDoubleCount: true})
	tok := fixed.AddUser("alice", "pw", RoleUser).Token()
	rs := chunked(t, fixed, tok, randomBytes(96<<10), plan(96<<10, 0, 25<<10), false)
	if rs[len(rs)-1].status != 200 {
		t.Fatalf("fixed server: %d %s", rs[len(rs)-1].status, rs[len(rs)-1].body)
	}
	// Over the limit even without the bug.
	rs = chunked(t, fixed, tok, randomBytes(101<<10), plan(101<<10, 0, 25<<10), false)
	if rs[len(rs)-1].status != 413 {
		t.Fatalf("over the limit: %d", rs[len(rs)-1].status)
	}
}

func TestChunkedGenerationC(t *testing.T) {
	s := newSrv(t, Config{Version: "4.7.0"})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	data := randomBytes(3000)
	rs := chunked(t, s, tok, data, []int{1000, 1000, 1000}, true)
	expect(t, rs[0], 400, `{"error":"E1002: Invalid partial upload","code":1002,"statusCode":400}`)
	rs = chunked(t, s, tok, data, []int{1000, 1000, 1000}, false)
	if len(rs) != 3 || rs[2].status != 200 {
		t.Fatalf("exclusive ends: %v", rs)
	}
	waitComplete(t, s, tok, rs[2].json(t)["files"].([]any)[0].(map[string]any)["id"].(string))
	// end past total
	expect(t, sendChunk(t, s, tok, chunkReq{0, 1000, 999, make([]byte, 1000), nil}), 400, "")
}

func TestChunkedGenerationD(t *testing.T) {
	s := newSrv(t, Config{Version: "4.8"})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	data := randomBytes(3000)
	// Exclusive ends are refused.
	expect(t, chunked(t, s, tok, data, []int{1000, 1000, 1000}, false)[0], 400,
		`{"error":"E1002: Invalid partial upload","code":1002,"statusCode":400}`)
	rs := chunked(t, s, tok, data, []int{1000, 1000, 1000}, true)
	if len(rs) != 3 || rs[2].status != 200 {
		t.Fatalf("inclusive: %d %s", rs[len(rs)-1].status, rs[len(rs)-1].body)
	}
	t0, t1 := rs[0].json(t)["partialToken"], rs[1].json(t)["partialToken"]
	if t0 == nil || t1 == nil || t0 == t1 || strings.Contains(rs[0].body, "partialIdentifier") {
		t.Fatalf("tokens: %s %s", rs[0].body, rs[1].body)
	}
	waitComplete(t, s, tok, rs[2].json(t)["files"].([]any)[0].(map[string]any)["id"].(string))
	if f := s.Files(); f[0].SHA256 != sha(data) {
		t.Fatal("bytes differ")
	}

	start := func() string {
		r := sendChunk(t, s, tok, chunkReq{0, 999, 3000, data[:1000], []string{"x-zipline-p-lastchunk", "false"}})
		expect(t, r, 200, "")
		return r.json(t)["partialToken"].(string)
	}
	next := func(tk string, c chunkReq) resp {
		c.hdr = append(c.hdr, "x-zipline-p-token", tk)
		return sendChunk(t, s, tok, c)
	}
	invalid := `{"error":"E1003: Partial upload token is invalid, expired, or already used","code":1003,"statusCode":400}`
	// Single use.
	tk := start()
	r := next(tk, chunkReq{1000, 1999, 3000, data[1000:2000], []string{"x-zipline-p-lastchunk", "false"}})
	expect(t, r, 200, "")
	expect(t, next(tk, chunkReq{1000, 1999, 3000, data[1000:2000], []string{"x-zipline-p-lastchunk", "false"}}), 400, invalid)
	// A wrong start discards the upload; its newest token is dead too.
	newest := r.json(t)["partialToken"].(string)
	expect(t, next(newest, chunkReq{2500, 2999, 3000, data[2500:], []string{"x-zipline-p-lastchunk", "true"}}), 400,
		`{"error":"E1002: Invalid partial upload","code":1002,"statusCode":400}`)
	// lastchunk must match the range.
	tk = start()
	expect(t, next(tk, chunkReq{1000, 1999, 3000, data[1000:2000], []string{"x-zipline-p-lastchunk", "true"}}), 400, "")
	// content length must equal the total.
	expect(t, sendChunk(t, s, tok, chunkReq{0, 999, 3000, data[:1000], []string{"x-zipline-p-content-length", "2999", "x-zipline-p-lastchunk", "false"}}), 400,
		`{"error":"E1002: Invalid partial upload","code":1002,"statusCode":400}`)
	// A later chunk without a token.
	expect(t, sendChunk(t, s, tok, chunkReq{1000, 1999, 3000, data[1000:2000], nil}), 400, invalid)
	// At most 4 active uploads per user.
	s2 := newSrv(t, Config{Version: "4.8"})
	tok2 := s2.AddUser("bob", "pw", RoleUser).Token()
	for i := 0; i < 4; i++ {
		expect(t, sendChunk(t, s2, tok2, chunkReq{0, 999, 3000, data[:1000], []string{"x-zipline-p-lastchunk", "false"}}), 200, "")
	}
	expect(t, sendChunk(t, s2, tok2, chunkReq{0, 999, 3000, data[:1000], []string{"x-zipline-p-lastchunk", "false"}}), 400,
		`{"error":"E1003: Too many active partial uploads","code":1003,"statusCode":400}`)
	// A total over maxFileSize fails on the first chunk.
	s3 := newSrv(t, Config{Version: "4.8", MaxFileSize: 2000})
	expect(t, sendChunk(t, s3, s3.AddUser("c", "pw", RoleUser).Token(), chunkReq{0, 999, 3000, data[:1000], []string{"x-zipline-p-lastchunk", "false"}}), 413,
		`{"error":"E5001: File is too large","code":5001,"statusCode":413}`)
}

func TestChunkedRateLimitD(t *testing.T) {
	s := newSrv(t, Config{Version: "4.8", UploadRateLimit: RateLimit{Max: 1, Window: time.Hour}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	data := randomBytes(3000)
	// The first chunk counts; continuations with a valid token do not.
	rs := chunked(t, s, tok, data, []int{1000, 1000, 1000}, true)
	if rs[len(rs)-1].status != 200 {
		t.Fatalf("%d %s", rs[len(rs)-1].status, rs[len(rs)-1].body)
	}
	expect(t, chunked(t, s, tok, data, []int{1000, 1000, 1000}, true)[0], 429, "")
}

func TestChunksDisabledNeverComplete(t *testing.T) {
	s := newSrv(t, Config{ChunksDisabled: true})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	if !strings.Contains(do(t, "GET", s.URL+"/api/server/public", nil).body, `"enabled":false`) {
		t.Fatal("public chunks.enabled")
	}
	rs := chunked(t, s, tok, randomBytes(100), []int{50, 50}, false)
	expect(t, rs[1], 200, "")
	s.Close() // waits for the worker, which gives up
	if f := s.Files(); f[0].Complete {
		t.Fatal("completed with chunks disabled")
	}
}

func TestChunkedGenerationA(t *testing.T) {
	s := newSrv(t, Config{Version: "4.2"})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	data := randomBytes(2000)
	send := func(start, end int64, last string) resp {
		ct, body := mpBody(part{filename: "blob", ctype: "application/octet-stream", data: data[start:end]})
		return do(t, "POST", s.URL+"/api/upload", bytes.NewReader(body), "Content-Type", ct, "Authorization", tok,
			"Content-Range", fmt.Sprintf("bytes %d-%d/2000", start, end), "x-zipline-p-filename", "a.bin",
			"x-zipline-p-content-type", "application/octet-stream", "x-zipline-p-identifier", "abcd1234", "x-zipline-p-lastchunk", last)
	}
	expect(t, send(0, 1000, "false"), 200, `{"files":[],"partialSuccess":true}`)
	r := send(1000, 2000, "true")
	f := r.json(t)["files"].([]any)[0].(map[string]any)
	if _, hasName := f["name"]; hasName || strings.Contains(f["url"].(string), "/u/") || f["pending"] != true {
		t.Fatalf("generation A final %s", r.body)
	}
	waitComplete(t, s, tok, f["id"].(string))
	if s.Files()[0].SHA256 != sha(data) {
		t.Fatal("bytes differ")
	}
}

func TestChunkedMissingContentTypeFails(t *testing.T) {
	s := New(t, Config{Version: "4.6"})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	r := sendChunk(t, s, tok, chunkReq{0, 100, 100, make([]byte, 100), []string{"x-zipline-p-lastchunk", "true", "x-zipline-p-content-type", ""}})
	expect(t, r, 200, "")
	waitFor(t, "FAILED", 5*time.Second, func() bool {
		inc := s.Incompletes()
		return len(inc) == 1 && inc[0].Status == StatusFailed
	})
}

func TestChunkedTokenExpiresD(t *testing.T) {
	s := New(t, Config{Version: "4.8", PartialTimeout: 50 * time.Millisecond})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	data := randomBytes(2000)
	r := sendChunk(t, s, tok, chunkReq{0, 999, 2000, data[:1000], []string{"x-zipline-p-lastchunk", "false"}})
	issued := time.Now()
	token := r.json(t)["partialToken"].(string)
	waitFor(t, "the timeout to pass", 5*time.Second, func() bool { return time.Since(issued) > 60*time.Millisecond })
	expect(t, sendChunk(t, s, tok, chunkReq{1000, 1999, 2000, data[1000:], []string{"x-zipline-p-lastchunk", "true", "x-zipline-p-token", token}}), 400,
		`{"error":"E1003: Partial upload token is invalid, expired, or already used","code":1003,"statusCode":400}`)
	// Expired uploads no longer count against the 4 active ones.
	for i := 0; i < 4; i++ {
		expect(t, sendChunk(t, s, tok, chunkReq{0, 999, 2000, data[:1000], []string{"x-zipline-p-lastchunk", "false"}}), 200, "")
	}
}

// Generation B joins chunks ordered by start, whatever order they came in.
func TestChunkedOutOfOrderB(t *testing.T) {
	s := New(t, Config{Version: "4.6"})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	data := randomBytes(3000)
	id := sendChunk(t, s, tok, chunkReq{0, 1000, 3000, data[:1000], []string{"x-zipline-p-lastchunk", "false"}}).json(t)["partialIdentifier"].(string)
	expect(t, sendChunk(t, s, tok, chunkReq{2000, 3000, 3000, data[2000:], []string{"x-zipline-p-lastchunk", "false", "x-zipline-p-identifier", id}}), 200, "")
	r := sendChunk(t, s, tok, chunkReq{1000, 2000, 3000, data[1000:2000], []string{"x-zipline-p-lastchunk", "true", "x-zipline-p-identifier", id}})
	waitComplete(t, s, tok, r.json(t)["files"].([]any)[0].(map[string]any)["id"].(string))
	if f := s.Files()[0]; f.SHA256 != sha(data) || f.Size != 3000 {
		t.Fatalf("record %+v", f)
	}
}
