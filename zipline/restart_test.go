package zipline_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// TestChunkedRestartOnE1003: the server forgets the upload midway (expired
// 4.8 token, restarted server); its E1003 makes the client start again
// from byte 0, once. A middleware in front of the fake spoils the
// continuation header of the third chunk.
func TestChunkedRestartOnE1003(t *testing.T) {
	for _, v := range []string{"4.6", "4.8"} {
		t.Run(v, func(t *testing.T) {
			srv := ziplinetest.NewServer(ziplinetest.Config{Version: v, HashOnly: true, ChunkMax: 1 << 20, ChunkSize: 1 << 20})
			defer srv.Close()
			tok := srv.AddUser("admin", "pw", ziplinetest.RoleAdmin).Token()
			var chunks, spoiled atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/upload/partial" && chunks.Add(1) == 3 {
					spoiled.Add(1)
					for _, h := range []string{"X-Zipline-P-Identifier", "X-Zipline-P-Token"} {
						if r.Header.Get(h) != "" {
							r.Header.Set(h, "spoiled0")
						}
					}
				}
				srv.ServeHTTP(w, r)
			}))
			defer ts.Close()
			c, err := zipline.NewClient(zipline.Options{Server: ts.URL, Token: tok})
			if err != nil {
				t.Fatal(err)
			}
			const size = 3<<20 + 100
			up := prngUpload("r.bin", 13, size)
			var opens atomic.Int32
			open := up.Open
			up.Open = func() (io.ReadCloser, error) { opens.Add(1); return open() }
			f, err := c.Upload(ctxT(t), up, zipline.UploadOptions{}, nil)
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if spoiled.Load() != 1 || opens.Load() != 2 {
				t.Errorf("spoiled %d, opened %d times; want 1 and 2", spoiled.Load(), opens.Load())
			}
			if got := fileByID(t, srv, f.ID); got.SHA256 != prngSHA(13, size) || got.Size != size {
				t.Errorf("server has %+v", got)
			}
			var e1003 int
			for _, r := range srv.Requests() {
				if r.Status == 400 {
					e1003++
				}
			}
			if e1003 != 1 {
				t.Errorf("%d failed chunks, want 1", e1003)
			}
		})
	}
}

// TestFileChanged: a file that shrinks or grows while it is sent is an
// ErrFileChanged, not a corrupt upload.
func TestFileChanged(t *testing.T) {
	srv, c, _ := fake(t, ziplinetest.Config{Version: "4.6"})
	ctx := ctxT(t)
	for name, content := range map[string]string{"shrunk.txt": "abc", "grown.txt": "abcdefghijkl"} {
		up := zipline.Upload{Name: name, Size: 8, ContentType: "text/plain",
			Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }}
		_, err := c.Upload(ctx, up, zipline.UploadOptions{}, nil)
		if !errors.Is(err, zipline.ErrFileChanged) {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := c.Upload(ctx, zipline.Upload{Name: "gone.txt", Size: 3, Open: func() (io.ReadCloser, error) { return nil, errors.New("open gone.txt: no such file or directory") }}, zipline.UploadOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("vanished file: %v", err)
	}
	if n := len(srv.Files()); n != 0 {
		t.Errorf("%d files stored from broken sources", n)
	}
	_, err = zipline.FileUpload(t.TempDir())
	if err == nil {
		t.Error("FileUpload of a directory succeeded")
	}
}
