package zipline_test

import (
	"io"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// BytesUpload gives the same content type as FileUpload (from the name,
// else sniffed) and a body that can be opened again (retries).
func TestBytesUpload(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"shot.png", pngBytes, "image/png"},
		{"noext", pngBytes, "image/png"},
		{"notes", []byte("%PDF-1.4 ..."), "application/pdf"},
		{"empty", nil, "application/octet-stream"},
	} {
		up := zipline.BytesUpload(c.name, c.data)
		if up.ContentType != c.want || up.Size != int64(len(c.data)) || up.Name != c.name {
			t.Errorf("BytesUpload(%q) = %+v, want type %s size %d", c.name, up, c.want, len(c.data))
		}
		for range 2 {
			r, err := up.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			if string(got) != string(c.data) {
				t.Errorf("%s: body %d bytes, want %d", c.name, len(got), len(c.data))
			}
		}
	}

	srv, c, _ := fake(t, ziplinetest.Config{})
	f, err := c.Upload(ctxT(t), zipline.BytesUpload("mem.png", pngBytes), zipline.UploadOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Files()[0]
	if got.SHA256 != sha(pngBytes) || got.Type != "image/png" || f.Type != "image/png" {
		t.Errorf("server stored %+v", got)
	}
}
