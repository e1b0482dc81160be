package zipline_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// partialRequests are the chunk requests the server saw, in order.
func partialRequests(srv *ziplinetest.Server, path string, okOnly bool) []ziplinetest.Request {
	var out []ziplinetest.Request
	for _, r := range srv.Requests() {
		if r.Path == path && r.Method == "POST" && r.Header.Get("Content-Range") != "" && (r.Status == 200 || !okOnly) {
			out = append(out, r)
		}
	}
	return out
}

// progressLog records progress calls and checks they only grow within a
// chunk series.
type progressLog struct {
	mu    sync.Mutex
	last  int64
	total int64
	calls int
}

func (p *progressLog) fn(sent, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last, p.total = sent, total
	p.calls++
}

// TestChunked96MiBDefaults: under the default limits (100mb, 25mb chunks
// from 95mb) with the server's first-chunk double count, a 96 MiB file
// must arrive whole — the small first chunk is what makes it fit (§9).
func TestChunked96MiBDefaults(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := fake(t, ziplinetest.Config{Version: v, HashOnly: true})
			const size = 96 << 20
			var pl progressLog
			up := prngUpload("movie 96.mp4", 96, size)
			up.ContentType = "" // detected from the extension
			f, err := c.Upload(ctxT(t), up, zipline.UploadOptions{OriginalName: true, MaxViews: 3}, pl.fn)
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if f.Pending {
				t.Error("Upload returned while the file was still pending")
			}
			got := fileByID(t, srv, f.ID)
			if !got.Complete || got.Size != size || got.SHA256 != prngSHA(96, size) {
				t.Fatalf("server has %+v", got)
			}
			if got.Filename != "movie 96.mp4" || got.OriginalName != "movie 96.mp4" || got.MaxViews != 3 || !got.Chunked {
				t.Errorf("server kept %+v", got)
			}
			if pl.last != size || pl.total != size {
				t.Errorf("progress ended at %d/%d", pl.last, pl.total)
			}
			reqs := partialRequests(srv, "/api/upload/partial", true)
			if len(reqs) != 5 {
				t.Fatalf("%d chunk requests, want 5 (64 KiB + 4 × 25 MiB-ish)", len(reqs))
			}
			first := reqs[0].Header.Get("Content-Range")
			if !strings.HasPrefix(first, "bytes 0-65535/") && !strings.HasPrefix(first, "bytes 0-65536/") {
				t.Errorf("first chunk %q, want 64 KiB", first)
			}
			for i, r := range reqs {
				h := r.Header
				last := i == len(reqs)-1
				if h.Get("X-Zipline-P-Lastchunk") != fmt.Sprint(last) || h.Get("X-Zipline-P-Content-Length") != fmt.Sprint(size) ||
					h.Get("X-Zipline-P-Filename") != "movie%2096.mp4" || h.Get("X-Zipline-P-Content-Type") != "video/mp4" {
					t.Errorf("chunk %d: lastchunk %q, content-length %q, filename %q, type %q", i, h.Get("X-Zipline-P-Lastchunk"),
						h.Get("X-Zipline-P-Content-Length"), h.Get("X-Zipline-P-Filename"), h.Get("X-Zipline-P-Content-Type"))
				}
				// The same options on every chunk.
				if h.Get("X-Zipline-Original-Name") != "true" || h.Get("X-Zipline-Max-Views") != "3" {
					t.Errorf("chunk %d lacks the options", i)
				}
				if r.Header.Get("Content-Length") == "" {
					t.Errorf("chunk %d without Content-Length", i)
				}
			}
		})
	}
}

// TestChunked300MiB sends 300 MiB through each generation and compares the
// server's sha256 with the source stream's.
func TestChunked300MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("300 MiB upload")
	}
	const size = 300 << 20
	want := prngSHA(300, size)
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			srv, c, _ := fake(t, ziplinetest.Config{Version: v, HashOnly: true, MaxFileSize: 1 << 30})
			f, err := c.Upload(ctxT(t), prngUpload("big.bin", 300, size), zipline.UploadOptions{}, nil)
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			got := fileByID(t, srv, f.ID)
			if got.Size != size || got.SHA256 != want || !got.Complete {
				t.Fatalf("server has size %d sha %s complete %v; want %d %s", got.Size, got.SHA256, got.Complete, size, want)
			}
			if n := len(partialRequests(srv, "/api/upload/partial", true)); n != 13 {
				t.Errorf("%d chunks, want 13 (64 KiB, then 25 MiB)", n)
			}
		})
	}
}

// TestChunkedGenerationC: 4.7.0 rejects the inclusive end with E1002; the
// client retries the first chunk with an exclusive end and keeps it.
func TestChunkedGenerationC(t *testing.T) {
	srv, c, _ := fake(t, ziplinetest.Config{Version: "4.7.0", HashOnly: true, ChunkMax: 1 << 20, ChunkSize: 1 << 20})
	const size = 3<<20 + 5
	f, err := c.Upload(ctxT(t), prngUpload("c.bin", 7, size), zipline.UploadOptions{}, nil)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got := fileByID(t, srv, f.ID); got.SHA256 != prngSHA(7, size) {
		t.Fatal("bytes differ")
	}
	reqs := partialRequests(srv, "/api/upload/partial", false)
	if len(reqs) < 3 || reqs[0].Status != 400 || reqs[0].Header.Get("Content-Range") != fmt.Sprintf("bytes 0-65535/%d", size) ||
		reqs[1].Header.Get("Content-Range") != fmt.Sprintf("bytes 0-65536/%d", size) || reqs[1].Status != 200 {
		for _, r := range reqs {
			t.Logf("%d %s", r.Status, r.Header.Get("Content-Range"))
		}
		t.Fatal("no exclusive-end retry of the first chunk")
	}
	if last := reqs[len(reqs)-1].Header.Get("Content-Range"); last != fmt.Sprintf("bytes %d-%d/%d", size-(size-65536)%(1<<20), size, size) {
		t.Errorf("last chunk %q, want an exclusive end", last)
	}
}

// TestChunkedGenerationD: 4.8 hands out a new single-use token per chunk.
func TestChunkedGenerationD(t *testing.T) {
	srv, c, _ := fake(t, ziplinetest.Config{Version: "4.8", HashOnly: true, ChunkMax: 1 << 20, ChunkSize: 1 << 20})
	const size = 4 << 20
	f, err := c.Upload(ctxT(t), prngUpload("d.bin", 8, size), zipline.UploadOptions{}, nil)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got := fileByID(t, srv, f.ID); got.SHA256 != prngSHA(8, size) {
		t.Fatal("bytes differ")
	}
	seen := map[string]bool{}
	for i, r := range partialRequests(srv, "/api/upload/partial", true) {
		tok := r.Header.Get("X-Zipline-P-Token")
		if i == 0 {
			if tok != "" {
				t.Error("token on the first chunk")
			}
			continue
		}
		if tok == "" || seen[tok] {
			t.Errorf("chunk %d token %q (reused or missing)", i, tok)
		}
		seen[tok] = true
		if r.Status != 200 {
			t.Errorf("chunk %d status %d", i, r.Status)
		}
	}
}

// TestChunkedGenerationA: before 4.2.2 there is no /api/upload/partial; the
// chunks go to /api/upload with the client's identifier.
func TestChunkedGenerationA(t *testing.T) {
	srv, c, _ := fake(t, ziplinetest.Config{Version: "4.2.0", HashOnly: true})
	info, err := c.Probe(ctxT(t))
	if err != nil {
		t.Fatalf("Probe of 4.2: %v", err)
	}
	if info.Limits.MaxFileSize != 100<<20 || info.Limits.ChunkMin != 95<<20 {
		t.Errorf("4.2 limits %+v, want the defaults", info.Limits)
	}
	const size = 96 << 20
	f, err := c.Upload(ctxT(t), prngUpload("a.bin", 9, size), zipline.UploadOptions{}, nil)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	got := fileByID(t, srv, f.ID)
	if got.Size != size || !got.Complete || got.SHA256 != prngSHA(9, size) {
		t.Fatalf("server has %+v", got)
	}
	reqs := partialRequests(srv, "/api/upload", true)
	if len(reqs) != 5 {
		t.Fatalf("%d chunks on /api/upload", len(reqs))
	}
	id := reqs[0].Header.Get("X-Zipline-P-Identifier")
	for _, r := range reqs {
		if r.Header.Get("X-Zipline-P-Identifier") != id || len(id) != 8 {
			t.Errorf("identifier %q, first %q", r.Header.Get("X-Zipline-P-Identifier"), id)
		}
	}
}

// TestChunkedIdentifierB: 4.6 returns the identifier once; later chunks
// carry it.
func TestChunkedIdentifierB(t *testing.T) {
	srv, c, _ := fake(t, ziplinetest.Config{Version: "4.6", HashOnly: true, ChunkMax: 1 << 20, ChunkSize: 1 << 20})
	f, err := c.Upload(ctxT(t), prngUpload("b.bin", 10, 3<<20), zipline.UploadOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.Incomplete(ctxT(t))
	if err != nil || len(list) != 1 || list[0].FileID != f.ID || list[0].Status != "COMPLETE" || list[0].ChunksTotal != list[0].ChunksComplete {
		t.Errorf("Incomplete = %+v, %v", list, err)
	}
	reqs := partialRequests(srv, "/api/upload/partial", true)
	mine := reqs[0].Header.Get("X-Zipline-P-Identifier")
	server := reqs[1].Header.Get("X-Zipline-P-Identifier")
	if mine == "" || server == "" || mine == server {
		t.Errorf("identifiers: first chunk %q, later %q", mine, server)
	}
	for _, r := range reqs[1:] {
		if r.Header.Get("X-Zipline-P-Identifier") != server {
			t.Errorf("identifier changed: %q", r.Header.Get("X-Zipline-P-Identifier"))
		}
	}
}

// TestChunksDisabled: with chunks.enabled false a big file goes in one
// request (the partial route would never complete it on 4.2.2–4.6).
func TestChunksDisabled(t *testing.T) {
	srv, c, _ := fake(t, ziplinetest.Config{Version: "4.6", HashOnly: true, ChunksDisabled: true})
	const size = 96 << 20
	f, err := c.Upload(ctxT(t), prngUpload("one.bin", 11, size), zipline.UploadOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fileByID(t, srv, f.ID); got.Chunked || got.SHA256 != prngSHA(11, size) {
		t.Errorf("server has %+v", got)
	}
	if n := len(partialRequests(srv, "/api/upload/partial", true)); n != 0 {
		t.Errorf("%d chunk requests", n)
	}
}
