package uploader

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small file comes back whole; a large one, or one that grew after its
// size was read (still being written), is left to the streaming upload.
func TestReadSmall(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.png")
	want := bytes.Repeat([]byte("png"), 1000)
	if err := os.WriteFile(small, want, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, data, err := readSmall(small)
	if err != nil || fi.Size() != int64(len(want)) || !bytes.Equal(data, want) {
		t.Fatalf("readSmall(small) = %v, %d bytes, %v", fi, len(data), err)
	}

	large := filepath.Join(dir, "large.mp4")
	if err := os.WriteFile(large, make([]byte, smallFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, data, err = readSmall(large)
	if err != nil || fi.Size() != smallFile+1 || data != nil {
		t.Fatalf("readSmall(large) = %v, %d bytes, %v; want info only", fi, len(data), err)
	}

	if _, _, err := readSmall(filepath.Join(dir, "gone.png")); !os.IsNotExist(err) {
		t.Errorf("readSmall(missing) error = %v, want not-exist", err)
	}

	// Grew after the size was read: more bytes than the size.
	if data, err := readSize(strings.NewReader("0123456789"), 5); err != nil || data != nil {
		t.Errorf("readSize(10 bytes, size 5) = %q, %v; want nil (stream it)", data, err)
	}
	// Shrank: left to the streaming upload too, which reports the change.
	if data, err := readSize(strings.NewReader("012"), 5); err != nil || data != nil {
		t.Errorf("readSize(3 bytes, size 5) = %q, %v; want nil (stream it)", data, err)
	}
	if data, err := readSize(strings.NewReader(""), 0); err != nil || data == nil || len(data) != 0 {
		t.Errorf("readSize(empty) = %q, %v; want an empty, non-nil body", data, err)
	}
}
