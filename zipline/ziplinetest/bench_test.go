package ziplinetest

import (
	"io"
	"mime/multipart"
	"net/http"
	"testing"
)

// patternReader yields n bytes without holding them in memory.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(b))
	if n > p.left {
		n = p.left
	}
	for i := range b[:n] {
		b[i] = byte(i)
	}
	p.left -= n
	return int(n), nil
}

// benchUpload streams one size-byte file per op through the fake; with
// -benchmem, B/op shows the server does not buffer the body.
func benchUpload(b *testing.B, cfg Config, size int64) {
	cfg.MaxFileSize = size + 1
	cfg.UploadRateLimit.Off = true
	s := New(b, cfg)
	tok := s.AddUser("bench", "pw", RoleUser).Token()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			w, _ := mw.CreateFormFile("file", "big.bin")
			io.CopyBuffer(w, &patternReader{left: size}, make([]byte, 256<<10))
			mw.Close()
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", s.URL+"/api/upload", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

func BenchmarkUploadHashOnly256MiB(b *testing.B) { benchUpload(b, Config{HashOnly: true}, 256<<20) }
func BenchmarkUploadStored64MiB(b *testing.B)    { benchUpload(b, Config{}, 64<<20) }
