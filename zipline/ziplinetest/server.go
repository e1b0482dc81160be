package ziplinetest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Config describes the fake server. The zero value is a default Zipline
// 4.6.3: 100mb files, 25mb chunks from 95mb, chunks on, rate limits on,
// bytes stored in a temporary directory.
type Config struct {
	// Version is the Zipline release to imitate: "4.4" (4.4.0), "4.6"
	// (4.6.3, the default), "4.7.0", "4.8"... It selects the error body
	// shape, cookie attributes, chunk generation (B ≤4.6, C 4.7, D ≥4.8),
	// token cipher and the other per-release details of the spec.
	Version string

	// MaxFileSize, ChunkSize and ChunkMax are files.maxFileSize,
	// chunks.size and chunks.max in bytes (defaults 100mb, 25mb, 95mb).
	// /api/server/public serves them as size strings ("100mb").
	MaxFileSize, ChunkSize, ChunkMax int64
	// MaxFileSizeText, ChunkSizeText and ChunkMaxText, when set, are served
	// verbatim instead (e.g. "1GiB", which the real server reads as 0), and
	// MaxFileSizeText is parsed like the server does to enforce the limit.
	MaxFileSizeText, ChunkSizeText, ChunkMaxText string
	// ChunksDisabled sets chunks.enabled=false. As on 4.2.2–4.6 the partial
	// route still accepts chunks but the file never completes.
	ChunksDisabled bool
	// MaxExpiration is files.maxExpiration (e.g. "30d"); "" means none.
	MaxExpiration string
	// DefaultFormat is files.defaultFormat (default "random").
	DefaultFormat string

	// UploadRateLimit is the limit on POST /api/upload, /api/upload/partial
	// and /api/user/urls for role USER (admins are exempt). Default: 10
	// per minute, like the real server.
	UploadRateLimit RateLimit
	// LoginRateLimit is the limit on POST /api/auth/login. Default: 1 per
	// 2 s (≥4.2.0).
	LoginRateLimit RateLimit

	// FixFirstChunkDoubleCount turns off the real 4.4/4.6 bug (§9) that
	// counts the first chunk twice against maxFileSize. Off by default:
	// the fake has the bug in every version, like the servers measured.
	FixFirstChunkDoubleCount bool
	// ProcessingDelay is how long an assembled chunked upload stays
	// PENDING and then PROCESSING before COMPLETE (default 0: at once).
	ProcessingDelay time.Duration
	// MaxActivePartials is the 4.8 cap on concurrent chunked uploads per
	// user (default 4).
	MaxActivePartials int
	// PartialTimeout is how long an idle 4.8 chunked upload and its token
	// stay valid (default 30 minutes).
	PartialTimeout time.Duration

	// StoreDir is where received bytes go. Default: a temporary directory
	// removed by Close. With HashOnly nothing is written; files are only
	// hashed and counted (and /u/, /raw/ answer 404).
	StoreDir string
	HashOnly bool

	// ReturnHTTPS is core.returnHttpsUrls: https URLs and a Secure cookie.
	ReturnHTTPS bool
	// DefaultDomain is core.defaultDomain, used in URLs instead of Host.
	DefaultDomain string
	// Domains is the domains list served by /api/server/public.
	Domains []string

	// HealthcheckDisabled is features.healthcheck=false: /api/healthcheck
	// answers 404 E9002 (≥4.5) or Fastify's 404 (older).
	HealthcheckDisabled bool

	// VersionAPI selects what /api/version answers (default: what a real
	// server with version checking off answers for this release).
	VersionAPI VersionAPIMode

	// CoreSecret is CORE_SECRET, the token encryption key. Default random.
	// Changing it (SetCoreSecret) invalidates every token, like the real one.
	CoreSecret string

	// Addr is the listen address (default "127.0.0.1:0").
	Addr string
	// TLS serves https with a fresh self-signed certificate for 127.0.0.1
	// and localhost (see CertPEM and Client), like httptest.NewTLSServer.
	TLS bool

	// Logf, if set, receives one line per request.
	Logf func(format string, args ...any)
}

// RateLimit configures a fixed-window limiter. The zero value is the real
// server's default for that route.
type RateLimit struct {
	Off    bool
	Max    int
	Window time.Duration
}

// VersionAPIMode is what GET /api/version answers.
type VersionAPIMode int

const (
	// VersionAPIDefault: ≥4.5 500 E6001 (the version service is unreachable),
	// 4.1–4.4 404 Not Found, 4.0 {"version"} for admins.
	VersionAPIDefault VersionAPIMode = iota
	// VersionAPIWorks: the ≥4.1 shape {details, data, cached}.
	VersionAPIWorks
	// VersionAPIDisabled: 404 E9002 (version checking off, non-admin).
	VersionAPIDisabled
)

// Server is a fake Zipline server listening on a loopback socket. All its
// methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:<port>", without a slash.
	URL string

	cfg      Config
	ver      version
	addr     string
	storeDir string
	ownDir   bool
	start    time.Time

	maxFileSize int64

	uploadRL *limiter
	loginRL  *limiter
	patchRL  *limiter
	folderRL *limiter

	mu         sync.Mutex
	hs         *http.Server
	down       bool
	closed     bool
	key        []byte              // SHA-256(CORE_SECRET)
	users      map[string]*userRec // by id
	byName     map[string]*userRec
	sessions   map[string]*session // by cookie value
	files      []*fileRec
	folders    []*folderRec
	urls       []*urlRec
	partials   map[string]*partial // by identifier (B/C) or token (D)
	incomplete []*incompleteRec
	requests   []*Request
	faults     faults

	change chan struct{} // closed when files change (see WaitFiles)
	active int           // requests being handled
	kill   chan struct{} // closed when the listener goes down

	tlsConf *tls.Config
	certPEM []byte

	wg   sync.WaitGroup // background assemblers
	done chan struct{}  // closed by Close
}

// NewServer starts a fake Zipline server. It panics if cfg is invalid or the
// socket cannot be opened (as httptest.NewServer does); use Start to get an
// error instead.
func NewServer(cfg Config) *Server {
	s, err := Start(cfg)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is NewServer returning an error.
func Start(cfg Config) (*Server, error) {
	ver, err := parseVersion(cfg.Version)
	if err != nil {
		return nil, err
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = 100 << 20
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 25 << 20
	}
	if cfg.ChunkMax <= 0 {
		cfg.ChunkMax = 95 << 20
	}
	if cfg.DefaultFormat == "" {
		cfg.DefaultFormat = "random"
	}
	if cfg.MaxActivePartials <= 0 {
		cfg.MaxActivePartials = 4
	}
	if cfg.PartialTimeout <= 0 {
		cfg.PartialTimeout = DefaultPartialTimeout
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.CoreSecret == "" {
		cfg.CoreSecret = randString(48, alnum)
	}
	s := &Server{
		cfg:      cfg,
		ver:      ver,
		start:    time.Now(),
		users:    map[string]*userRec{},
		byName:   map[string]*userRec{},
		sessions: map[string]*session{},
		partials: map[string]*partial{},
		done:     make(chan struct{}),
	}
	s.key = secretKey(cfg.CoreSecret)
	s.maxFileSize = cfg.MaxFileSize
	if cfg.MaxFileSizeText != "" {
		n, _ := parseSize(cfg.MaxFileSizeText) // null → 0, like the server
		s.maxFileSize = n
	}
	s.uploadRL = newLimiter(cfg.UploadRateLimit, 10, time.Minute)
	s.loginRL = newLimiter(cfg.LoginRateLimit, 1, 2*time.Second)
	if !ver.atLeast(4, 2, 0) {
		s.loginRL.setOff(true)
	}
	s.patchRL = newLimiter(RateLimit{}, 1, time.Second)
	s.folderRL = newLimiter(RateLimit{}, 1, 2*time.Second)

	if !cfg.HashOnly {
		if cfg.StoreDir == "" {
			dir, err := os.MkdirTemp("", "fakezipline-*")
			if err != nil {
				return nil, fmt.Errorf("ziplinetest: store dir: %w", err)
			}
			s.storeDir, s.ownDir = dir, true
		} else {
			if err := os.MkdirAll(cfg.StoreDir, 0o755); err != nil {
				return nil, fmt.Errorf("ziplinetest: store dir: %w", err)
			}
			s.storeDir = cfg.StoreDir
		}
	}

	scheme := "http"
	if cfg.TLS {
		cert, certPEM, err := newCert()
		if err != nil {
			s.cleanupDir()
			return nil, err
		}
		s.tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.certPEM = certPEM
		scheme = "https"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.cleanupDir()
		return nil, fmt.Errorf("ziplinetest: listen %s: %w", cfg.Addr, err)
	}
	s.addr = ln.Addr().String()
	s.URL = scheme + "://" + s.addr
	s.serve(ln)
	return s, nil
}

func (s *Server) serve(ln net.Listener) {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)} // e.g. TLS handshakes of clients that distrust the certificate
	if s.cfg.Logf != nil {
		hs.ErrorLog = log.New(logWriter(s.cfg.Logf), "", 0)
	}
	s.hs = hs
	s.kill = make(chan struct{})
	go hs.Serve(s.wrapListener(ln))
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// Version is the imitated release, e.g. "4.6.3".
func (s *Server) Version() string { return s.ver.String() }

// StoreDir is where received bytes are written ("" with HashOnly).
func (s *Server) StoreDir() string { return s.storeDir }

// Close stops the server, waits for background work and removes the
// temporary store directory.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	hs := s.hs
	if hs != nil {
		close(s.kill)
	}
	s.mu.Unlock()
	if hs != nil {
		hs.Close()
	}
	// Handlers see their connections closed and return; give them a moment
	// so none writes into the store after it is removed.
	for deadline := time.Now().Add(5 * time.Second); s.inFlight() > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	s.wg.Wait()
	s.cleanupDir()
}

func (s *Server) cleanupDir() {
	if s.ownDir && s.storeDir != "" {
		os.RemoveAll(s.storeDir)
	}
}

// Down makes the server unreachable: it closes the listener and every open
// connection, so new requests get "connection refused" until Up.
func (s *Server) Down() {
	s.mu.Lock()
	hs := s.hs
	if s.down || s.closed {
		s.mu.Unlock()
		return
	}
	s.down = true
	s.hs = nil
	close(s.kill)
	s.mu.Unlock()
	hs.Close()
}

// Up brings the server back on the same address after Down.
func (s *Server) Up() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.down || s.closed {
		return nil
	}
	var ln net.Listener
	var err error
	// The port is normally free at once (SO_REUSEADDR); retry briefly in
	// case the old listener's close is still settling.
	for i := 0; i < 50; i++ {
		ln, err = net.Listen("tcp", s.addr)
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("ziplinetest: relisten %s: %w", s.addr, err)
	}
	s.down = false
	s.serve(ln)
	return nil
}

// InFlight counts requests being handled right now (Requests lists them
// once they finish).
func (s *Server) InFlight() int { return s.inFlight() }

func (s *Server) inFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// IsDown reports whether Down is in effect.
func (s *Server) IsDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	// BodyBytes is how many body bytes the server read (final once the
	// handler has returned; InFlight tells).
	BodyBytes int64
	Status    int
	Time      time.Time
}

// Requests returns a copy of every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

type countingBody struct {
	io.ReadCloser
	mu sync.Mutex
	n  int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *countingBody) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// statusWriter notes the status and records the request just before the
// answer goes out, so a client that has its answer finds the request in
// Requests.
type statusWriter struct {
	http.ResponseWriter
	status   int
	onHeader func(status int)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.onHeader(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ServeHTTP implements http.Handler; the server can also be mounted in
// another mux (then Down/Up do not apply).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	begin := time.Now()
	s.mu.Lock()
	s.active++
	s.mu.Unlock()
	body := &countingBody{ReadCloser: r.Body}
	r.Body = body
	rec := &Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Time: begin}
	recorded := false
	record := func(status int) {
		s.mu.Lock()
		rec.Status, rec.BodyBytes = status, body.count()
		if !recorded {
			s.requests = append(s.requests, rec)
			recorded = true
		}
		s.mu.Unlock()
	}
	sw := &statusWriter{ResponseWriter: w, onHeader: record}
	defer func() {
		record(sw.status) // final body count; status 0 if nothing was answered
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
		if s.cfg.Logf != nil {
			s.cfg.Logf("%s %s -> %d (%d body bytes, %s)", r.Method, r.URL.RequestURI(), sw.status, body.count(), time.Since(begin).Round(time.Millisecond))
		}
	}()
	if s.applyFaults(w, sw, r) {
		return
	}
	// Every Zipline answer carries these (@fastify/cors, Node's keep-alive).
	h := sw.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Connection", "keep-alive")
	h.Set("Keep-Alive", "timeout=72")
	s.route(sw, r)
}

// sleepCtx waits d or until ctx ends or kill is closed.
func sleepCtx(ctx context.Context, kill <-chan struct{}, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-kill:
		return errClosed
	}
}

// drain reads and discards the rest of a request body so the client sees a
// clean answer (Node reads the whole body too).
func drain(r *http.Request) {
	io.Copy(io.Discard, r.Body)
}

var errClosed = errors.New("ziplinetest: server closed")

// remoteIP is the client IP used in rate-limit keys.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// hasJSONType reports whether the request declares a JSON body.
func hasJSONType(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return strings.HasPrefix(strings.TrimSpace(ct), "application/json")
}

// logWriter sends the http.Server's own log lines to Config.Logf.
type logWriter func(format string, args ...any)

func (f logWriter) Write(p []byte) (int, error) {
	f("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
