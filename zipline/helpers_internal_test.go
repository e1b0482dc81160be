package zipline

import (
	"io"
	"mime/multipart"
	"strings"
)

func openString(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

func newTestWriter(w io.Writer, boundary string) *multipart.Writer {
	mw := multipart.NewWriter(w)
	_ = mw.SetBoundary(boundary)
	return mw
}
