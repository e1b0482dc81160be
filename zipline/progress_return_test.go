package zipline_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// The server (or a proxy) answers an upload before reading its body — as
// Zipline does for a bad token, nginx for a body over its limit — while
// the body writer is inside the caller's Progress callback (the uploader's
// publishes an event and writes the queue). Upload must not return while
// that callback still runs: the caller's own state (the uploader's
// lastProgress, the item it marks "processing") is then written by a
// callback that outlives the call. finish(false) sets gaveUp and leaves
// the writer, whatever it is doing.
func TestProgressOutlivesUpload(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{Version: "4.6"})
	t.Cleanup(srv.Close)
	tok := srv.AddUser("admin", "admin-password", ziplinetest.RoleAdmin).Token()
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	entered := make(chan struct{})
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/upload" {
			select { // answer once the body writer is in the callback
			case <-entered:
			case <-time.After(10 * time.Second):
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"E2001: Invalid token","code":2001,"statusCode":401}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	c, err := zipline.NewClient(zipline.Options{Server: proxy.URL, Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("x"), 512<<10) // one request, no 100-continue
	up := zipline.Upload{Name: "a.bin", Size: int64(len(data)), ContentType: "application/octet-stream",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}

	var running, calls atomic.Int32
	returned := make(chan struct{})
	var first atomic.Bool
	progress := func(sent, total int64) {
		calls.Add(1)
		running.Add(1)
		defer running.Add(-1)
		if first.CompareAndSwap(false, true) {
			close(entered)
			// Slow work (an fsync of the queue): bounded, so a correct
			// Upload that waits for it still returns.
			select {
			case <-returned:
			case <-time.After(3 * time.Second):
			}
		}
	}
	_, err = c.Upload(ctxT(t), up, zipline.UploadOptions{}, progress)
	inCallback := running.Load()
	close(returned)
	if err == nil {
		t.Fatal("upload answered 401 succeeded")
	}
	if inCallback != 0 {
		t.Errorf("Upload returned (%v) while its Progress callback was still running (%d call(s) in flight): "+
			"the caller's progress state is written after the call ended", err, inCallback)
	}
}
