package ziplinetest

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter is a fixed-window counter per key, like @fastify/rate-limit's
// in-memory store.
type limiter struct {
	mu      sync.Mutex
	off     bool
	max     int
	window  time.Duration
	buckets map[string]*bucket
}

type bucket struct {
	count   int
	resetAt time.Time
}

type rlResult struct {
	limited   bool
	limit     int
	remaining int
	ttl       time.Duration
}

func newLimiter(c RateLimit, defMax int, defWindow time.Duration) *limiter {
	l := &limiter{buckets: map[string]*bucket{}}
	l.set(c, defMax, defWindow)
	return l
}

func (l *limiter) set(c RateLimit, defMax int, defWindow time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.off = c.Off
	l.max = c.Max
	if l.max <= 0 {
		l.max = defMax
	}
	l.window = c.Window
	if l.window <= 0 {
		l.window = defWindow
	}
	l.buckets = map[string]*bucket{}
}

func (l *limiter) setOff(off bool) {
	l.mu.Lock()
	l.off = off
	l.mu.Unlock()
}

// take counts one request for key. ok is false when the limiter is off.
func (l *limiter) take(key string) (res rlResult, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.off {
		return rlResult{}, false
	}
	now := time.Now()
	b := l.buckets[key]
	if b == nil || !now.Before(b.resetAt) {
		b = &bucket{resetAt: now.Add(l.window)}
		l.buckets[key] = b
	}
	b.count++
	res = rlResult{limit: l.max, remaining: l.max - b.count, ttl: b.resetAt.Sub(now)}
	if res.remaining < 0 {
		res.remaining = 0
	}
	res.limited = b.count > l.max
	return res, true
}

func (r rlResult) seconds() int {
	s := int((r.ttl + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// setHeaders adds the x-ratelimit-* headers @fastify/rate-limit sends on
// every answer of a limited route.
func (r rlResult) setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Ratelimit-Limit", strconv.Itoa(r.limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(r.remaining))
	h.Set("X-Ratelimit-Reset", strconv.Itoa(r.seconds()))
}

// write429 answers like @fastify/rate-limit through Zipline's error handler.
func (r rlResult) write429(w http.ResponseWriter) {
	r.setHeaders(w)
	w.Header().Set("Retry-After", strconv.Itoa(r.seconds()))
	writePlainErr(w, http.StatusTooManyRequests, "Rate limit exceeded, retry in "+formatMs(int64(r.seconds())*1000))
}

// SetUploadRateLimit changes the upload limit at run time and forgets the
// counts so far.
func (s *Server) SetUploadRateLimit(c RateLimit) { s.uploadRL.set(c, 10, time.Minute) }

// SetLoginRateLimit changes the login limit at run time and forgets the
// counts so far.
func (s *Server) SetLoginRateLimit(c RateLimit) { s.loginRL.set(c, 1, 2*time.Second) }
