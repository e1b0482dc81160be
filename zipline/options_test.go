package zipline_test

import (
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// TestAllOptions sends every typed option and checks the exact header the
// server got, and what it did with it.
func TestAllOptions(t *testing.T) {
	for _, v := range []string{"4.6", "4.7.0", "4.8"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := fake(t, ziplinetest.Config{Version: v})
			ctx := ctxT(t)
			folder, err := srv.AddFolder("admin", "F", ziplinetest.FolderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pct := 50
			opts := zipline.UploadOptions{
				Format: "random", DeletesAt: "date=2030-01-02T03:04:05Z", CompressionPercent: &pct, CompressionType: "webp",
				Password: "view-pw", MaxViews: 2, OriginalName: true, Folder: folder.ID, Filename: "résumé 1",
				FileExtension: "txt", Domain: "cdn.example.com", Extensionless: true,
			}
			up := zipline.Upload{Name: "pic.png", Size: int64(len(pngBytes)), Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(pngBytes))), nil }}
			f, err := c.Upload(ctx, up, opts, nil)
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			got := fileByID(t, srv, f.ID)
			want := map[string]string{
				"X-Zipline-Format": "random", "X-Zipline-Deletes-At": "date=2030-01-02T03:04:05Z",
				"X-Zipline-Image-Compression-Percent": "50", "X-Zipline-Image-Compression-Type": "webp",
				"X-Zipline-Password": "view-pw", "X-Zipline-Max-Views": "2", "X-Zipline-Original-Name": "true",
				"X-Zipline-Folder": folder.ID, "X-Zipline-Filename": url.PathEscape("résumé 1"),
				"X-Zipline-File-Extension": "txt", "X-Zipline-Domain": "cdn.example.com", "X-Zipline-Extensionless": "true",
			}
			for k, w := range want {
				if g := got.Options.Get(k); g != w {
					t.Errorf("%s = %q, want %q", k, g, w)
				}
			}
			if len(got.Options) != len(want) {
				t.Errorf("server got %d x-zipline headers, want %d: %v", len(got.Options), len(want), got.Options)
			}
			if got.FolderID != folder.ID || got.MaxViews != 2 || got.Password == "" || !got.DeletesAt.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
				t.Errorf("server kept %+v", got)
			}
			if !strings.Contains(f.URL, "cdn.example.com") {
				t.Errorf("URL %q ignores the domain", f.URL)
			}

			// Off means absent, not "false".
			plain, err := c.Upload(ctx, up, zipline.UploadOptions{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if o := fileByID(t, srv, plain.ID).Options; len(o) != 0 {
				t.Errorf("default options sent headers %v", o)
			}

			short, err := c.Shorten(ctx, "https://example.org/x", zipline.ShortenOptions{Vanity: "v" + strings.ReplaceAll(v, ".", ""), MaxViews: 4, Password: "url-pw", Domain: "s.example.com"})
			if err != nil {
				t.Fatalf("Shorten: %v", err)
			}
			if !strings.Contains(short.URL, "s.example.com") {
				t.Errorf("short URL %q ignores the domain", short.URL)
			}
			for _, r := range srv.Requests() {
				if r.Path == "/api/user/urls" && (r.Header.Get("X-Zipline-Max-Views") != "4" || r.Header.Get("X-Zipline-Password") != "url-pw" || r.Header.Get("Content-Type") != "application/json") {
					t.Errorf("shorten headers %v", r.Header)
				}
			}
		})
	}
}

func TestOptionValidation(t *testing.T) {
	_, c, _ := fake(t, ziplinetest.Config{Version: "4.6"})
	up := zipline.Upload{Name: "a.txt", Size: 1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }}
	bad := 101
	for name, o := range map[string]zipline.UploadOptions{
		"percent":  {CompressionPercent: &bad},
		"views":    {MaxViews: -1},
		"newline":  {Password: "a\r\nX-Evil: 1"},
		"newline2": {Domain: "a\nb"},
	} {
		if _, err := c.Upload(ctxT(t), up, o, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
