package zipline_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// smallChunkLimits make chunking start at 1 MiB with 256 KiB chunks.
func smallChunkLimits(v string) ziplinetest.Config {
	return ziplinetest.Config{Version: v, MaxFileSize: 8 << 20, ChunkSize: 256 << 10, ChunkMax: 1 << 20}
}

// TestChunkedGrowingFile: a file still being written (it grew past
// the size it had when the upload started) must give ErrFileChanged, as the
// single-request path does (TestFileChanged), not be stored cut short.
func TestChunkedGrowingFile(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			srv, c, _ := fake(t, smallChunkLimits(v))
			const size = 2 << 20 // chunked
			data := bytes.Repeat([]byte("0123456789abcdef"), (size+4096)/16)
			up := zipline.Upload{Name: "recording.bin", Size: size, ContentType: "application/octet-stream",
				Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
			f, err := c.Upload(ctxT(t), up, zipline.UploadOptions{}, nil)
			if !errors.Is(err, zipline.ErrFileChanged) {
				t.Errorf("a file that grew from %d to %d bytes during a chunked upload: got (%+v, %v), want ErrFileChanged; server has %d file(s)",
					size, len(data), f, err, len(srv.Files()))
			}
		})
	}
}

// TestFileRewrittenDuringUpload: a file on disk that is rewritten in
// place (same size: an editor or screenshot tool saving again) while it is
// being uploaded must be reported, not stored as a mix of old and new
// bytes that never existed together on disk (its mtime changed).
func TestFileRewrittenDuringUpload(t *testing.T) {
	for name, size := range map[string]int{"single request": 768 << 10, "chunked": 2 << 20} {
		t.Run(name, func(t *testing.T) {
			srv, c, _ := fake(t, smallChunkLimits("4.6"))
			oldData := bytes.Repeat([]byte("A"), size)
			newData := bytes.Repeat([]byte("B"), size)
			path := writeFile(t, "shot.bin", oldData)
			up, err := zipline.FileUpload(path)
			if err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			var werr error
			progress := func(sent, total int64) {
				if sent >= 64<<10 && sent < total {
					once.Do(func() {
						// In place, same size: what a second save does.
						f, err := os.OpenFile(path, os.O_WRONLY, 0)
						if err != nil {
							werr = err
							return
						}
						_, werr = f.WriteAt(newData, 0)
						f.Close()
					})
				}
			}
			uf, err := c.Upload(ctxT(t), up, zipline.UploadOptions{}, progress)
			if werr != nil {
				t.Fatal(werr)
			}
			if errors.Is(err, zipline.ErrFileChanged) {
				return
			}
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			got := fileByID(t, srv, uf.ID)
			stored, rerr := os.ReadFile(got.Path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			t.Errorf("the file was rewritten during the upload, yet Upload succeeded with no ErrFileChanged; stored bytes equal old: %v, equal new: %v (%d×'A', %d×'B')",
				bytes.Equal(stored, oldData), bytes.Equal(stored, newData), bytes.Count(stored, []byte("A")), bytes.Count(stored, []byte("B")))
		})
	}
}

// TestChunkedNearLimit: 4.4–4.6 count the first chunk twice against
// maxFileSize (§9). A file within 64 KiB of the limit passes the client's
// size check; with a 64 KiB first chunk every chunk was sent and the last
// one failed with 413, the whole transfer lost. A smaller first chunk fits.
func TestChunkedNearLimit(t *testing.T) {
	srv, c, _ := fake(t, ziplinetest.Config{Version: "4.6", MaxFileSize: 4 << 20, ChunkSize: 1 << 20, ChunkMax: 1 << 20, HashOnly: true})
	const size = 4<<20 - 1024 // 1 KiB under maxFileSize
	_, err := c.Upload(ctxT(t), prngUpload("big.bin", 7, size), zipline.UploadOptions{}, nil)
	if err == nil {
		return
	}
	var sent int64
	for _, r := range srv.Requests() {
		if r.Path == "/api/upload/partial" {
			sent += r.BodyBytes
		}
	}
	if sent > 0 {
		t.Errorf("a %d-byte file (limit %d) failed only after %d bytes were sent: %v", size, 4<<20, sent, err)
	}
}
