package zipline_test

import (
	"io"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// patternReader is an endless cheap byte source, so the benchmark
// measures the client and not a generator.
type patternReader struct{ off int }

var pattern = func() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}()

func (p *patternReader) Read(b []byte) (int, error) {
	n := copy(b, pattern[p.off:])
	p.off = (p.off + n) % len(pattern)
	return n, nil
}

func benchUpload(b *testing.B, cfg ziplinetest.Config, size int64) {
	_, c, _ := fake(b, cfg)
	up := zipline.Upload{Name: "bench.bin", Size: size, ContentType: "application/octet-stream",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(io.LimitReader(&patternReader{}, size)), nil }}
	ctx := ctxT(b)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Upload(ctx, up, zipline.UploadOptions{}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpload64MiB streams one 64 MiB file in a single request to the
// fake on loopback (which hashes it); B/op shows the file is not buffered.
func BenchmarkUpload64MiB(b *testing.B) {
	benchUpload(b, ziplinetest.Config{Version: "4.6", HashOnly: true}, 64<<20)
}

// BenchmarkUploadChunked64MiB sends the same in 16 MiB chunks (after the
// 64 KiB first chunk), including the wait for COMPLETE.
func BenchmarkUploadChunked64MiB(b *testing.B) {
	benchUpload(b, ziplinetest.Config{Version: "4.6", HashOnly: true, ChunkMax: 32 << 20, ChunkSize: 16 << 20}, 64<<20)
}
