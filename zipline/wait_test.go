package zipline_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// incompleteServer answers /api/user/files/incomplete with the statuses
// given, one per poll (the last repeats), and /api/user/files/<id> with
// fileStatus. The fake completes or fails on its own schedule; this pins
// the polling logic to exact sequences.
func incompleteServer(t *testing.T, statuses []string, fileStatus int) (*zipline.Client, *atomic.Int32) {
	var polls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/user/files/incomplete":
			i := int(polls.Add(1)) - 1
			st := statuses[min(i, len(statuses)-1)]
			if st == "" {
				io.WriteString(w, `[]`)
				return
			}
			json.NewEncoder(w).Encode([]any{
				map[string]any{"id": "other", "status": "FAILED", "chunksTotal": 1, "chunksComplete": 0, "metadata": map[string]any{"file": map[string]any{"id": "someone-else"}}},
				map[string]any{"id": "inc1", "status": st, "chunksTotal": 3, "chunksComplete": 1, "userId": "u", "metadata": map[string]any{"file": map[string]any{"id": "f1", "filename": "x.bin", "type": "application/octet-stream"}}},
			})
		case strings.HasPrefix(r.URL.Path, "/api/user/files/"):
			w.WriteHeader(fileStatus)
			if fileStatus == 200 {
				io.WriteString(w, `{"id":"f1","name":"x.bin","size":42,"createdAt":"2026-11-23T19:19:16.525Z"}`)
			} else {
				fmt.Fprintf(w, `{"error":"E4000: File not found","code":4000,"statusCode":%d}`, fileStatus)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	c, err := zipline.NewClient(zipline.Options{Server: ts.URL, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	return c, &polls
}

func TestWaitComplete(t *testing.T) {
	c, polls := incompleteServer(t, []string{"PENDING", "PROCESSING", "PROCESSING", "COMPLETE"}, 200)
	if err := c.WaitComplete(ctxT(t), "f1"); err != nil {
		t.Fatal(err)
	}
	if n := polls.Load(); n != 4 {
		t.Errorf("%d polls, want 4 (stop at COMPLETE)", n)
	}

	c, _ = incompleteServer(t, []string{"PENDING", "FAILED"}, 200)
	err := c.WaitComplete(ctxT(t), "f1")
	if !errors.Is(err, zipline.ErrUploadFailed) || zipline.Retryable(err) {
		t.Errorf("FAILED: %v", err)
	}

	// No record at all: the file itself says it is done (size > 0) ...
	c, _ = incompleteServer(t, []string{""}, 200)
	if err := c.WaitComplete(ctxT(t), "f1"); err != nil {
		t.Errorf("no record, file with a size: %v", err)
	}
	// ... or gone.
	c, _ = incompleteServer(t, []string{""}, 404)
	if err := c.WaitComplete(ctxT(t), "f1"); !errors.Is(err, zipline.ErrUploadFailed) {
		t.Errorf("no record, no file: %v", err)
	}

	c, _ = incompleteServer(t, []string{"PROCESSING"}, 200)
	list, err := c.Incomplete(ctxT(t))
	if err != nil || len(list) != 2 || list[1].FileID != "f1" || list[1].Status != "PROCESSING" || list[1].ChunksTotal != 3 || list[1].ChunksComplete != 1 {
		t.Errorf("Incomplete = %+v, %v", list, err)
	}
}

// TestMisconfiguredLimit: an admin wrote maxFileSize "1GiB", which the
// server reads as 0 while the client cannot parse it (so it assumes
// 100mb). The server then drops every part and says "no files" (400
// E1062); the client reports that as a size problem.
func TestMisconfiguredLimit(t *testing.T) {
	for _, v := range []string{"4.4", "4.6"} {
		t.Run(v, func(t *testing.T) {
			_, c, tok := fake(t, ziplinetest.Config{Version: v, MaxFileSizeText: "1GiB"})
			l, err := c.Limits(ctxT(t))
			if err != nil || l.MaxFileSize != zipline.DefaultMaxFileSize {
				t.Fatalf("Limits = %+v, %v", l, err)
			}
			_, err = c.Upload(ctxT(t), prngUpload("a.bin", 12, 4096), zipline.UploadOptions{}, nil)
			wantIs(t, err, zipline.ErrTooLarge)
			if errors.Is(err, zipline.ErrBadRequest) {
				t.Error("also ErrBadRequest")
			}
			noSecret(t, err, tok)
			if !strings.Contains(err.Error(), "size limit") {
				t.Errorf("message %q", err)
			}
		})
	}
}
