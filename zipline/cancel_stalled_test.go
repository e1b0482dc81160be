package zipline_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// stallingSource yields size bytes then blocks until released, like a read
// from a hung network share or FUSE mount.
type stallingSource struct {
	n, size int64
	stalled chan struct{}
	release chan struct{}
}

func (r *stallingSource) Read(p []byte) (int, error) {
	if r.n >= r.size {
		select {
		case r.stalled <- struct{}{}:
		default:
		}
		<-r.release
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.size-r.n)
	r.n += k
	return int(k), nil
}
func (r *stallingSource) Close() error { return nil }

// TestCancelStalledSource: the source stalls (a hung network share)
// after 2 MiB of a 4 MiB upload; cancelling the context must still make
// Upload return.
func TestCancelStalledSource(t *testing.T) {
	_, c, _ := fake(t, ziplinetest.Config{Version: "4.6", HashOnly: true})
	src := &stallingSource{size: 2 << 20, stalled: make(chan struct{}, 1), release: make(chan struct{})}
	t.Cleanup(func() { close(src.release) })
	up := zipline.Upload{Name: "a.bin", Size: 4 << 20, ContentType: "application/octet-stream",
		Open: func() (io.ReadCloser, error) { return src, nil }}
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := c.Upload(ctx, up, zipline.UploadOptions{}, nil); done <- err }()
	select {
	case <-src.stalled:
	case <-time.After(30 * time.Second):
		t.Fatal("source never read")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled upload: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Upload still running 10 s after its context was cancelled (source stalled)")
	}
}
