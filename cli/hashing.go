package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"sync"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// hashWhileSending wraps u so that the file's SHA-256 (which the history
// keeps, so the same content is not uploaded twice) is computed from the
// bytes as they are sent, instead of reading the file a second time.
// sum returns "" unless the last opening was read to the full size.
func hashWhileSending(u zipline.Upload) (_ zipline.Upload, sum func() string) {
	var (
		mu   sync.Mutex
		last *hashReader
	)
	open := u.Open
	u.Open = func() (io.ReadCloser, error) {
		rc, err := open()
		if err != nil {
			return nil, err
		}
		hr := &hashReader{rc: rc, h: sha256.New()}
		mu.Lock()
		last = hr
		mu.Unlock()
		return hr, nil
	}
	size := u.Size
	return u, func() string {
		mu.Lock()
		defer mu.Unlock()
		if last == nil || last.n != size {
			return ""
		}
		return hex.EncodeToString(last.h.Sum(nil))
	}
}

type hashReader struct {
	rc io.ReadCloser
	h  hash.Hash
	n  int64
}

func (r *hashReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.h.Write(p[:n])
	r.n += int64(n)
	return n, err
}

func (r *hashReader) Close() error { return r.rc.Close() }
