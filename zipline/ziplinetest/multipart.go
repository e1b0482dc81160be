package ziplinetest

import (
	"io"
	"mime/multipart"
	"strconv"
	"strings"
)

type multipartBody struct {
	mr   *multipart.Reader
	body io.Reader
}

// rest drains whatever the multipart reader has not consumed.
func (m *multipartBody) rest() io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		for {
			part, err := m.mr.NextPart()
			if err != nil {
				io.Copy(io.Discard, m.body)
				return 0, io.EOF
			}
			io.Copy(io.Discard, part)
		}
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func itoa(n int) string     { return strconv.Itoa(n) }
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func parseIntStrict(s string) (int, error) { return strconv.Atoi(strings.TrimSpace(s)) }

type errNoUser string

func (e errNoUser) Error() string { return "ziplinetest: no user " + strconv.Quote(string(e)) }
