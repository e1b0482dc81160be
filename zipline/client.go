package zipline

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Client talks to one Zipline server. It is safe for concurrent use.
type Client struct {
	opts   Options
	base   *url.URL
	hc     *http.Client
	token  string
	shared *shared
	me     *userID // this token's user, once asked
}

// userID caches UserID's answer.
type userID struct {
	mu sync.Mutex
	id string
}

// shared is the state copies made by WithToken have in common.
type shared struct {
	mu        sync.Mutex
	limits    *Limits
	limitsAt  time.Time
	lastLogin time.Time
}

// limitsTTL is how long Limits trusts a cached answer.
const limitsTTL = 10 * time.Minute

// responseTimeout bounds the wait for an answer once a body is sent.
const responseTimeout = 5 * time.Minute

// maxJSONBody bounds a decoded success answer.
const maxJSONBody = 32 << 20

// NewClient checks the options (URL, http policy, CA file) and builds a client.
func NewClient(o Options) (*Client, error) {
	u, err := normalizeServer(o.Server)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "http" && !o.AllowHTTP && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%s: %w", u.Host, ErrInsecureHTTP)
	}
	for k, v := range o.Headers {
		if err := checkExtraHeader(k, v); err != nil {
			return nil, err
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	// Uploads go through a pipe; a big write buffer saves hand-offs.
	tr.WriteBufferSize = 256 << 10
	// Counted from the end of the request body: some servers never answer
	// (the thumbnail quirk of §3.4), but S3 writes can take minutes.
	tr.ResponseHeaderTimeout = responseTimeout
	tr.ExpectContinueTimeout = time.Second
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	o.Server = u.String()
	if o.UserAgent == "" {
		o.UserAgent = "zipline-tray/" + Version
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	c := &Client{opts: o, base: u, token: o.Token, shared: &shared{}, me: &userID{}}
	c.hc = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	return c, nil
}

// Server is the normalised base URL ("https://host[:port][/prefix]", no trailing slash).
func (c *Client) Server() string { return c.opts.Server }

// WithToken returns a copy of c that authenticates with token, sharing the transport.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	cp.opts.Token = token
	cp.me = &userID{}
	return &cp
}

// HTTPClient is the underlying client (TLS, proxy and redirect policy
// applied), for fetching the server's own URLs.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// normalizeServer accepts what users paste: a bare host, a trailing slash,
// the upload URL of a ShareX config, a dashboard link.
func normalizeServer(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, errors.New("no server URL given; enter the address of your Zipline, e.g. https://zipline.example.com")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("server URL %q is not valid: %w", raw, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server URL %q: use an http:// or https:// address", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("server URL %q has no host name", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("server URL for %s: remove the user name and password from it", u.Host)
	}
	u.Host = strings.ToLower(u.Host)
	u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery, u.Opaque = "", "", "", false, ""
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, seg := range segs {
		switch seg {
		case "api", "dashboard", "auth", "u", "raw", "view", "folder", "invite", "go":
			segs = segs[:i]
		}
	}
	u.Path = strings.TrimRight("/"+strings.Join(segs, "/"), "/")
	u.RawPath = ""
	return u, nil
}

func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkExtraHeader(k, v string) error {
	if k == "" || strings.ContainsAny(k, " \t\r\n:()<>@,;\\\"/[]?={}") {
		return fmt.Errorf("extra header %q: not a valid header name", k)
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("extra header %s: the value must be on one line", k)
	}
	switch http.CanonicalHeaderKey(k) {
	case "Authorization", "Cookie", "Host", "Content-Type", "Content-Length", "Content-Range", "Transfer-Encoding":
		return fmt.Errorf("extra header %s is set by the client itself; remove it", k)
	}
	return nil
}

// origin is scheme://host:port with the default port filled in.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

func sameOrigin(a, b *url.URL) bool { return origin(a) == origin(b) }

// checkRedirect keeps every request on the configured server. Stripping
// credentials from a redirect to another origin is not enough: Go replays a
// sign-in's body (the password) on 307/308 and copies headers such as
// x-zipline-password, so such a redirect is refused, with a hint.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !sameOrigin(req.URL, c.base) {
		return ErrRedirectedAway // the url.Error around it names the address
	}
	return nil
}

// originJar hands out cookies only to the configured server, whatever the
// port-blind cookie rules would allow.
type originJar struct {
	base *url.URL
	jar  http.CookieJar
}

func (j *originJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	if !sameOrigin(u, j.base) {
		return
	}
	if u.Scheme == "http" {
		// A server with returnHttpsUrls marks the cookie Secure even when
		// reached over http (allowed by the user); it only ever goes back
		// to this origin, so keep it usable.
		for _, c := range cs {
			c.Secure = false
		}
	}
	j.jar.SetCookies(u, cs)
}

func (j *originJar) Cookies(u *url.URL) []*http.Cookie {
	if !sameOrigin(u, j.base) {
		return nil
	}
	return j.jar.Cookies(u)
}

// newRequest builds a request to path (already escaped, starting "/api/").
// Authorization is set only when auth is true and the client has a token.
func (c *Client) newRequest(ctx context.Context, method, path string, q url.Values, body io.Reader, auth bool) (*http.Request, error) {
	s := c.opts.Server + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, s, body)
	if err != nil {
		return nil, err
	}
	for k, v := range c.opts.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept", "application/json")
	if auth && c.token != "" {
		req.Header["Authorization"] = []string{c.token}
	}
	return req, nil
}

// call does a JSON request bounded by Options.Timeout. in == nil sends no
// body and no Content-Type (Fastify rejects an empty JSON body).
func (c *Client) call(ctx context.Context, method, path string, q url.Values, hdr http.Header, in, out any) error {
	return c.callWith(ctx, c.hc, true, method, path, q, hdr, in, out)
}

func (c *Client) callWith(ctx context.Context, hc *http.Client, auth bool, method, path string, q url.Values, hdr http.Header, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := c.newRequest(ctx, method, path, q, body, auth)
	if err != nil {
		return err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return c.readResponse(resp, out)
}

// readResponse decodes a 2xx JSON answer into out, or returns an *APIError.
func (c *Client) readResponse(resp *http.Response, out any, secrets ...string) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return parseError(resp, body, append(secrets, c.token)...)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJSONBody))
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody))
	if err != nil {
		return fmt.Errorf("reading the answer to %s %s: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: %w", resp.Request.Method, resp.Request.URL.Path, c.badAnswer(resp, body))
	}
	return nil
}

// badAnswer describes a 2xx answer that is not the expected JSON.
func (c *Client) badAnswer(resp *http.Response, body []byte, secrets ...string) error {
	_, msg := parseErrorBody(resp.StatusCode, resp.Header.Get("Content-Type"), body, append(secrets, c.token)...)
	if msg == "" {
		msg = "empty body"
	}
	return fmt.Errorf("%w: unexpected answer (%d: %s)", ErrNotZipline, resp.StatusCode, cleanText(msg, 80))
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
