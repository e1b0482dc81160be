package zipline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of a server without /api/server/public (< 4.3.0), and the
// fallback for a size string that does not parse.
const (
	DefaultMaxFileSize = 100 << 20
	DefaultChunkSize   = 25 << 20
	DefaultChunkMin    = 95 << 20
)

// DefaultLimits are the limits assumed when the server does not say.
func DefaultLimits() Limits {
	return Limits{MaxFileSize: DefaultMaxFileSize, ChunksEnabled: true, ChunkSize: DefaultChunkSize, ChunkMin: DefaultChunkMin, DefaultFormat: "random"}
}

// publicInfo is GET /api/server/public (≥4.3.0).
type publicInfo struct {
	OAuth struct {
		BypassLocalLogin bool `json:"bypassLocalLogin"`
		LoginOnly        bool `json:"loginOnly"`
	} `json:"oauth"`
	Files *struct {
		MaxFileSize   json.RawMessage `json:"maxFileSize"`
		DefaultFormat string          `json:"defaultFormat"`
		MaxExpiration *string         `json:"maxExpiration"`
	} `json:"files"`
	Chunks *struct {
		Max     json.RawMessage `json:"max"`
		Size    json.RawMessage `json:"size"`
		Enabled *bool           `json:"enabled"`
	} `json:"chunks"`
	FirstSetup  bool     `json:"firstSetup"`
	Domains     []string `json:"domains"`
	ReturnHTTPS *bool    `json:"returnHttps"`
}

// parsePublic reads /api/server/public; ok is false when the body is not
// that document.
func parsePublic(body []byte) (pi publicInfo, raw map[string]json.RawMessage, ok bool) {
	if json.Unmarshal(body, &raw) != nil || json.Unmarshal(body, &pi) != nil {
		return pi, nil, false
	}
	return pi, raw, pi.Chunks != nil && pi.Files != nil
}

// limits converts the public document to Limits; a size that does not
// parse (the server reads "1GiB" as 0) falls back to the default.
func (pi *publicInfo) limits() Limits {
	l := DefaultLimits()
	size := func(raw json.RawMessage, def int64) int64 {
		var s string
		var n float64
		switch {
		case json.Unmarshal(raw, &s) == nil:
			if v, err := ParseSize(s); err == nil && v > 0 {
				return v
			}
		case json.Unmarshal(raw, &n) == nil && n >= 1 && n < 1<<62:
			return int64(n)
		}
		return def
	}
	if pi.Files != nil {
		l.MaxFileSize = size(pi.Files.MaxFileSize, l.MaxFileSize)
		if pi.Files.DefaultFormat != "" {
			l.DefaultFormat = pi.Files.DefaultFormat
		}
		if pi.Files.MaxExpiration != nil {
			l.MaxExpiration = *pi.Files.MaxExpiration
		}
	}
	if pi.Chunks != nil {
		l.ChunkSize = size(pi.Chunks.Size, l.ChunkSize)
		l.ChunkMin = size(pi.Chunks.Max, l.ChunkMin)
		if pi.Chunks.Enabled != nil {
			l.ChunksEnabled = *pi.Chunks.Enabled
		}
	}
	l.Domains = pi.Domains
	return l
}

// answer is a small response read whole, for probing.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a *answer) json() map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(a.body), &m) != nil {
		return nil
	}
	return m
}

// describe summarises an answer for "not a Zipline server" messages.
func (a *answer) describe(secrets ...string) string {
	if a.json() != nil {
		_, msg := parseErrorBody(a.status, a.header.Get("Content-Type"), a.body, secrets...)
		if msg == "" {
			msg = "JSON"
		}
		return strconv.Itoa(a.status) + " " + cleanText(msg, 60)
	}
	if len(bytes.TrimSpace(a.body)) > 0 && isHTML(a.header.Get("Content-Type"), a.body) {
		return strconv.Itoa(a.status) + " HTML page"
	}
	return strconv.Itoa(a.status) + " " + http.StatusText(a.status)
}

func (a *answer) nextJS() bool {
	return strings.Contains(strings.ToLower(a.header.Get("X-Powered-By")), "next.js") ||
		bytes.Contains(a.body, []byte("__NEXT_DATA__")) || bytes.Contains(a.body, []byte("/_next/static"))
}

// fastify404 is Fastify's own unknown-route answer.
func (a *answer) fastify404() bool {
	m := a.json()
	return a.status == 404 && m != nil && strings.HasPrefix(jsonString(m["message"]), "Route ") && m["statusCode"] != nil
}

// v3Error is v3's {"error":"…","code":<http status>} with no statusCode.
func (a *answer) v3Error() bool {
	m := a.json()
	if m == nil || m["statusCode"] != nil || jsonString(m["error"]) == "" {
		return false
	}
	var code int
	return json.Unmarshal(m["code"], &code) == nil && code == a.status
}

func (c *Client) get(ctx context.Context, path string, auth bool) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodGet, path, nil, nil, auth)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return &answer{resp.StatusCode, resp.Header, body}, nil
}

// Probe identifies the server: ErrNotZipline, ErrV3, or its version and limits.
// It follows §4.6 of the spec: /api/server/public (≥4.3), /api/healthcheck
// (any v4), then /api/user to tell v3 (no such routes) from anything else.
func (c *Client) Probe(ctx context.Context) (*ServerInfo, error) {
	host := c.base.Host
	pub, err := c.get(ctx, "/api/server/public", false)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", host, err)
	}
	if pub.status == 200 {
		if pi, raw, ok := parsePublic(pub.body); ok {
			info := &ServerInfo{Version: ">=4.3.0", Limits: pi.limits(), FirstSetup: pi.FirstSetup,
				OAuthOnly: pi.OAuth.LoginOnly || pi.OAuth.BypassLocalLogin}
			if pi.ReturnHTTPS != nil {
				info.ReturnHTTPS = *pi.ReturnHTTPS
				info.Version = ">=4.4.2"
			} else if files := (&answer{body: raw["files"]}).json(); files != nil && files["maxExpiration"] != nil {
				info.Version = ">=4.4.1"
			}
			c.storeLimits(info.Limits)
			if c.token != "" {
				vctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				if v, err := c.ServerVersion(vctx); err == nil && v != "" {
					info.Version = v
				}
				cancel()
			}
			return info, nil
		}
	}
	if pub.status >= 500 {
		// Zipline or the proxy in front of it is broken: worth a retry,
		// not a verdict on what the server is.
		e := parseError(&http.Response{StatusCode: pub.status, Header: pub.header}, pub.body, c.token)
		e.Method, e.Path = http.MethodGet, "/api/server/public"
		return nil, fmt.Errorf("%s: %w", host, e)
	}
	hc, err := c.get(ctx, "/api/healthcheck", false)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", host, err)
	}
	old := &ServerInfo{Version: ">=4.0.0 <4.3.0", Limits: DefaultLimits()}
	if m := hc.json(); m != nil && m["pass"] != nil && !hc.v3Error() {
		if pub.status != 404 {
			old.Version = "4.x"
		}
		c.storeLimits(old.Limits)
		return old, nil
	}
	user, err := c.get(ctx, "/api/user", true)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", host, err)
	}
	um := user.json()
	switch {
	case user.status == 200 && um != nil && um["administrator"] != nil && um["user"] == nil,
		user.v3Error() && (pub.status == 404 || pub.nextJS() || user.nextJS()):
		return nil, fmt.Errorf("%s: %w", host, ErrV3)
	case user.status == 200 && um != nil && um["user"] != nil,
		pub.fastify404() && user.status == 401 && um != nil && um["statusCode"] != nil:
		// A v4 whose health check is switched off.
		c.storeLimits(old.Limits)
		return old, nil
	}
	return nil, fmt.Errorf("%s: %w (GET /api/server/public: %s; /api/healthcheck: %s)", host, ErrNotZipline, pub.describe(c.token), hc.describe(c.token))
}

// Limits returns the server's upload limits (cached after the first call).
// A server without /api/server/public (< 4.3.0) gets DefaultLimits.
func (c *Client) Limits(ctx context.Context) (Limits, error) {
	c.shared.mu.Lock()
	if c.shared.limits != nil && time.Since(c.shared.limitsAt) < limitsTTL {
		l := *c.shared.limits
		c.shared.mu.Unlock()
		return l, nil
	}
	c.shared.mu.Unlock()
	a, err := c.get(ctx, "/api/server/public", false)
	if err != nil {
		return Limits{}, fmt.Errorf("reading the server's upload limits: %w", err)
	}
	var l Limits
	switch pi, _, ok := parsePublic(a.body); {
	case a.status == 200 && ok:
		l = pi.limits()
	case a.status == 404:
		l = DefaultLimits()
	default:
		if a.status >= 300 {
			e := parseError(&http.Response{StatusCode: a.status, Header: a.header}, a.body, c.token)
			e.Method, e.Path = http.MethodGet, "/api/server/public"
			return Limits{}, fmt.Errorf("reading the server's upload limits: %w", e)
		}
		return Limits{}, fmt.Errorf("reading the server's upload limits: %w (%s)", ErrNotZipline, a.describe(c.token))
	}
	c.storeLimits(l)
	return l, nil
}

func (c *Client) storeLimits(l Limits) {
	c.shared.mu.Lock()
	c.shared.limits = &l
	c.shared.limitsAt = time.Now()
	c.shared.mu.Unlock()
}

// ServerVersion asks /api/version; it often fails (non-admins, air-gapped) — use opportunistically.
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	var v struct {
		Details struct {
			Version string `json:"version"`
		} `json:"details"`
		Version string `json:"version"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/version", nil, nil, nil, &v); err != nil {
		return "", fmt.Errorf("server version: %w", err)
	}
	if v.Details.Version != "" {
		return v.Details.Version, nil
	}
	if v.Version != "" {
		return v.Version, nil
	}
	return "", fmt.Errorf("server version: %w", ErrNotFound)
}
