package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
)

func TestHashWhileSending(t *testing.T) {
	data := bytes.Repeat([]byte("zipline"), 10000)
	want := sha256.Sum256(data)
	up, sum := hashWhileSending(zipline.Upload{
		Name: "a.bin", Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	})
	if got := sum(); got != "" {
		t.Fatalf("sum before sending = %q, want empty", got)
	}
	// A first attempt that stops half way (a dropped connection), then a
	// full one: only the complete reading counts.
	r, _ := up.Open()
	io.CopyN(io.Discard, r, int64(len(data)/2))
	r.Close()
	if got := sum(); got != "" {
		t.Fatalf("sum after a partial read = %q, want empty", got)
	}
	r, _ = up.Open()
	io.Copy(io.Discard, r)
	r.Close()
	if got := sum(); got != hex.EncodeToString(want[:]) {
		t.Fatalf("sum = %s, want %x", got, want)
	}
}
