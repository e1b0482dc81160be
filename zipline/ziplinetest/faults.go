package ziplinetest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Failure describes canned error answers armed with FailNext.
type Failure struct {
	// Path limits the failure to request paths with this prefix ("" = any).
	Path string
	// Status is the HTTP status (default 503).
	Status int
	// HTML answers an nginx-style HTML error page instead of JSON.
	HTML bool
}

type failRule struct {
	n int
	f Failure
}

type dropRule struct {
	n     int
	path  string
	after int64
}

type faults struct {
	delays     map[string]time.Duration
	fails      []*failRule
	drops      []*dropRule
	proxyLimit int64
}

// SetDelay makes every request whose path starts with pathPrefix ("" = all)
// wait d before it is handled; 0 removes the delay. A request waits for the
// longest matching delay. The wait ends early if the client goes away.
func (s *Server) SetDelay(pathPrefix string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.delays == nil {
		s.faults.delays = map[string]time.Duration{}
	}
	if d <= 0 {
		delete(s.faults.delays, pathPrefix)
		return
	}
	s.faults.delays[pathPrefix] = d
}

// FailNext makes the next n requests matching f.Path answer f.Status
// (default 503) with a JSON or HTML body, without reaching Zipline's
// routes. The request body is read first, as a proxy would.
func (s *Server) FailNext(n int, f Failure) {
	if f.Status == 0 {
		f.Status = http.StatusServiceUnavailable
	}
	s.mu.Lock()
	s.faults.fails = append(s.faults.fails, &failRule{n: n, f: f})
	s.mu.Unlock()
}

// DropNext makes the next n requests whose path starts with pathPrefix
// lose their connection after the server has read afterBytes of the body:
// the connection is closed with no answer (recorded with Status 0).
func (s *Server) DropNext(n int, pathPrefix string, afterBytes int64) {
	s.mu.Lock()
	s.faults.drops = append(s.faults.drops, &dropRule{n: n, path: pathPrefix, after: afterBytes})
	s.mu.Unlock()
}

// SetProxyLimit imitates a reverse proxy's body limit (nginx
// client_max_body_size): a request body over n bytes gets nginx's HTML 413
// page and the connection is closed. 0 removes the limit.
func (s *Server) SetProxyLimit(n int64) {
	s.mu.Lock()
	s.faults.proxyLimit = n
	s.mu.Unlock()
}

// ClearFaults removes every delay, failure, drop and proxy limit.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = faults{}
	s.mu.Unlock()
}

// applyFaults runs the armed faults for r; true means r was answered.
func (s *Server) applyFaults(raw http.ResponseWriter, w *statusWriter, r *http.Request) bool {
	s.mu.Lock()
	var delay time.Duration
	for p, d := range s.faults.delays {
		if strings.HasPrefix(r.URL.Path, p) && d > delay {
			delay = d
		}
	}
	limit := s.faults.proxyLimit
	kill := s.kill
	var fail *Failure
	for _, fr := range s.faults.fails {
		if fr.n > 0 && strings.HasPrefix(r.URL.Path, fr.f.Path) {
			fr.n--
			f := fr.f
			fail = &f
			break
		}
	}
	var drop *dropRule
	if fail == nil {
		for _, dr := range s.faults.drops {
			if dr.n > 0 && strings.HasPrefix(r.URL.Path, dr.path) {
				dr.n--
				d := *dr
				drop = &d
				break
			}
		}
	}
	s.mu.Unlock()

	if err := sleepCtx(r.Context(), kill, delay); err != nil {
		panic(http.ErrAbortHandler) // the connection is gone or going
	}
	if limit > 0 && s.overProxyLimit(r, limit) {
		w.Header().Set("Server", "nginx")
		w.Header().Set("Connection", "close")
		writeRaw(w, http.StatusRequestEntityTooLarge, "text/html", nginxPage(413, "Request Entity Too Large"))
		return true
	}
	if fail != nil {
		drain(r)
		if fail.HTML {
			w.Header().Set("Server", "nginx")
			writeRaw(w, fail.Status, "text/html", nginxPage(fail.Status, http.StatusText(fail.Status)))
		} else {
			writePlainErr(w, fail.Status, http.StatusText(fail.Status))
		}
		return true
	}
	if drop != nil {
		io.CopyN(io.Discard, r.Body, drop.after)
		hj, ok := raw.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return true
	}
	return false
}

// overProxyLimit reports whether r's body exceeds limit. A body of unknown
// length is spooled to a temporary file up to the limit and replayed.
func (s *Server) overProxyLimit(r *http.Request, limit int64) bool {
	if r.ContentLength >= 0 {
		return r.ContentLength > limit
	}
	f, err := os.CreateTemp("", "fakezipline-spool-*")
	if err != nil {
		return false
	}
	os.Remove(f.Name())
	n, _ := io.CopyN(f, r.Body, limit+1)
	if n > limit {
		f.Close()
		return true
	}
	f.Seek(0, io.SeekStart)
	orig := r.Body
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(f, orig), closeBoth{f, orig}}
	return false
}

type closeBoth [2]io.Closer

func (c closeBoth) Close() error { c[0].Close(); return c[1].Close() }

func nginxPage(status int, text string) []byte {
	return []byte(fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", status, text, status, text))
}
