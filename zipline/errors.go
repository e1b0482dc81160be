package zipline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// Sentinel errors. Every error a Client returns for an HTTP failure is an
// *APIError that matches one of these with errors.Is.
var (
	// ErrUnauthorized: 401. The token was reset, CORE_SECRET changed, or the
	// server was upgraded past 4.4.0. The user must sign in again.
	ErrUnauthorized = errors.New("the server rejected the saved token; sign in again")
	// ErrForbidden: 403 (admin only, folder not yours or closed, URL quota).
	ErrForbidden = errors.New("not allowed")
	// ErrNotFound: 404 from Zipline (file or folder not found).
	ErrNotFound = errors.New("not found")
	// ErrTooLarge: the file exceeds the server's limit (E5001, a proxy 413, or
	// the client-side check against maxFileSize).
	ErrTooLarge = errors.New("file too large")
	// ErrQuota: the user's storage or file-count quota (E5002).
	ErrQuota = errors.New("storage quota exceeded")
	// ErrRateLimited: 429. APIError.RetryAfter says how long to wait.
	ErrRateLimited = errors.New("rate limited")
	// ErrBadRequest: 400 other than the sign-in errors below (bad upload
	// options, name clash, disabled extension...). Permanent.
	ErrBadRequest = errors.New("bad request")
	// ErrServer: 5xx. Worth retrying.
	ErrServer = errors.New("server error")
	// ErrFileCount: a several-file upload was answered with another number
	// of files; which ones the server kept is unknown. Send them one by one.
	ErrFileCount = errors.New("the server answered for a different number of files than were sent")

	// ErrInvalidCredentials: wrong username or password (400 E1044).
	ErrInvalidCredentials = errors.New("wrong username or password")
	// ErrTOTPRequired: the password was right; the account needs a TOTP code.
	ErrTOTPRequired = errors.New("two-factor code required")
	// ErrInvalidTOTP: the TOTP code was wrong (400 E1045).
	ErrInvalidTOTP = errors.New("wrong two-factor code")

	// ErrNotZipline: the URL answers, but not as a Zipline server.
	ErrNotZipline = errors.New("this is not a Zipline server")
	// ErrV3: a Zipline v3 server; only v4 is supported.
	ErrV3 = errors.New("zipline v3 is not supported; upgrade the server to v4")
	// ErrRedirectedAway: the server sent a request on to another address
	// (host, port or scheme). It is not followed: a replayed sign-in would
	// carry the password there, a re-sent upload its file password.
	ErrRedirectedAway = errors.New("the server redirected to another address; if Zipline is there, use that address as the server")
	// ErrInsecureHTTP: plain http to a non-loopback host without AllowHTTP.
	ErrInsecureHTTP = errors.New("plain http to a non-local server would expose the token; use https or allow http explicitly")
)

// APIError is an HTTP error answer from the server.
type APIError struct {
	Method, Path string
	Status       int    // HTTP status
	Code         int    // Zipline code (>= 1000) when the server sent one, else 0
	Message      string // the server's message, or a summary of a non-JSON body
	// RetryAfter is the server's Retry-After on 429 (0 if absent).
	RetryAfter time.Duration

	// tooLarge marks a 400 E1062 ("no files") that followed a file part: the
	// server silently drops parts over its maxFileSize.
	tooLarge bool
}

// Error is short and says what to do; it never contains the token.
func (e *APIError) Error() string {
	d := e.detail()
	switch e.kind() {
	case ErrUnauthorized:
		return "the server rejected the sign-in (" + d + "); sign in again"
	case ErrForbidden:
		return "not allowed by the server (" + d + ")"
	case ErrNotFound:
		return "not found on the server (" + d + ")"
	case ErrTooLarge:
		if e.Code == 0 {
			return "file too large (" + d + "); ask the server admin to raise the upload limit"
		}
		return "file too large for the server (" + d + ")"
	case ErrQuota:
		return "storage quota exceeded (" + d + "); delete old files or ask the server admin for more space"
	case ErrRateLimited:
		if e.RetryAfter > 0 {
			return "rate limited by the server; retry in " + e.RetryAfter.Round(time.Second).String() + " (" + d + ")"
		}
		return "rate limited by the server; retry later (" + d + ")"
	case ErrInvalidCredentials:
		return "wrong username or password (" + d + "); accounts that use only OAuth or passkeys must paste a token instead"
	case ErrInvalidTOTP:
		return "wrong two-factor code (" + d + "); enter the current code from your authenticator app"
	case ErrBadRequest:
		return "the server refused the request (" + d + ")"
	case ErrServer:
		return "server error (" + d + "); try again later"
	}
	return "unexpected answer from the server (" + d + ")"
}

// detail is "401 E2001: Invalid token" or "413: Request Entity Too Large".
func (e *APIError) detail() string {
	s := strconv.Itoa(e.Status)
	if e.Code > 0 {
		s += " E" + strconv.Itoa(e.Code)
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if msg != "" {
		s += ": " + msg
	}
	return s
}

// Is matches the sentinel errors above.
func (e *APIError) Is(target error) bool {
	k := e.kind()
	return k != nil && k == target
}

func (e *APIError) kind() error {
	switch {
	case e.tooLarge:
		return ErrTooLarge
	case e.Code == 5002:
		return ErrQuota
	case e.Code == 5001 || e.Status == http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case e.Status == http.StatusUnauthorized:
		return ErrUnauthorized
	case e.Status == http.StatusForbidden:
		return ErrForbidden
	case e.Status == http.StatusNotFound:
		return ErrNotFound
	case e.Status == http.StatusTooManyRequests:
		return ErrRateLimited
	case e.Code == 1044 || e.Code == 0 && e.Status == 400 && oldCredentialsMessage(e.Message):
		return ErrInvalidCredentials
	case e.Code == 1045 || e.Code == 0 && e.Status == 400 && strings.EqualFold(e.Message, "Invalid code"):
		return ErrInvalidTOTP
	case e.Status >= 400 && e.Status < 500:
		return ErrBadRequest
	case e.Status >= 500:
		return ErrServer
	}
	return nil
}

// oldCredentialsMessage reports the ≤4.4 login failures, which have no code
// (4.0 used three distinct messages).
func oldCredentialsMessage(m string) bool {
	switch strings.ToLower(m) {
	case "invalid username or password", "invalid username", "invalid password",
		"user does not have a password, login through a provider":
		return true
	}
	return false
}

// TooLargeError is the client-side check of a file against the server's
// maxFileSize, made before any byte is sent. It matches ErrTooLarge.
type TooLargeError struct {
	Name        string
	Size, Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %s but the server accepts at most %s per file", e.Name, mib(e.Size), mib(e.Limit))
}

// Is matches ErrTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Retryable reports whether err is worth retrying later as is: rate limits,
// 5xx answers, and network failures. Sign-in, size, quota and request errors
// are permanent, and so is a cancelled context.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Is(ErrRateLimited) || ae.Is(ErrServer)
	}
	var te *TooLargeError
	if errors.As(err, &te) || errors.Is(err, ErrInsecureHTTP) || errors.Is(err, ErrRedirectedAway) || errors.Is(err, ErrNotZipline) || errors.Is(err, ErrV3) || errors.Is(err, ErrTOTPRequired) {
		return false
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

const maxErrorBody = 64 << 10

// parseError turns an error answer into an *APIError. It reads at most
// maxErrorBody bytes of body and removes the given secrets from the message.
func parseError(resp *http.Response, body []byte, secrets ...string) *APIError {
	e := &APIError{Status: resp.StatusCode}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		if resp.Request.URL != nil {
			e.Path = resp.Request.URL.Path
		}
	}
	e.Code, e.Message = parseErrorBody(resp.StatusCode, resp.Header.Get("Content-Type"), body, secrets...)
	if resp.StatusCode == http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" {
		e.RetryAfter = parseRetryAfter(resp.Header, time.Now())
	}
	return e
}

// redact replaces each secret in s; done before any truncation, so no
// prefix of a secret survives either.
func redact(s string, secrets []string) string {
	for _, x := range secrets {
		if len(x) >= 4 {
			s = strings.ReplaceAll(s, x, "[redacted]")
		}
	}
	return s
}

// parseErrorBody reads the Zipline code and message from the error body of
// any era (≥4.5 "E2001: …" with code, ≤4.4 {error,statusCode}, v3
// {error,code:<http status>}, Fastify's own {message,error,statusCode}) or
// summarises a non-JSON body such as a proxy's HTML page.
func parseErrorBody(status int, contentType string, body []byte, secrets ...string) (code int, msg string) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var m struct {
			Error   json.RawMessage `json:"error"`
			Message json.RawMessage `json:"message"`
			Code    json.RawMessage `json:"code"`
		}
		if json.Unmarshal(trimmed, &m) == nil {
			errStr := jsonString(m.Error)
			msgStr := jsonString(m.Message)
			var c float64
			if json.Unmarshal(m.Code, &c) == nil && c >= 1000 && c < 100000 && c == float64(int(c)) {
				code = int(c)
			}
			msg = errStr
			if msgStr != "" && (msg == "" || strings.EqualFold(msg, http.StatusText(status))) {
				msg = msgStr
			}
			if code > 0 {
				msg = strings.TrimPrefix(msg, "E"+strconv.Itoa(code)+": ")
			} else if c, rest, ok := splitCode(msg); ok {
				code, msg = c, rest
			}
			return code, cleanText(redact(msg, secrets), 300)
		}
	}
	if len(trimmed) == 0 {
		return 0, ""
	}
	if isHTML(contentType, trimmed) {
		t := htmlTitle(trimmed)
		if t == "" {
			t = http.StatusText(status)
		}
		return 0, cleanText(redact(t, secrets), 120) + " (from a proxy in front of Zipline)"
	}
	line, _, _ := bytes.Cut(trimmed, []byte("\n"))
	return 0, cleanText(redact(string(line), secrets), 160)
}

// splitCode splits "E2001: Invalid token" when the code field is missing.
func splitCode(s string) (int, string, bool) {
	if len(s) < 7 || s[0] != 'E' {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(s[1:], ": ")
	if !ok || len(num) < 4 || len(num) > 5 {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1000 {
		return 0, "", false
	}
	return n, rest, true
}

func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func isHTML(contentType string, body []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "html") {
		return true
	}
	head := bytes.ToLower(body[:min(len(body), 512)])
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html")) ||
		bytes.Contains(head, []byte("<title>")) || bytes.Contains(head, []byte("<body"))
}

// htmlTitle returns the text of <title> or the first <h1>.
func htmlTitle(body []byte) string {
	// ASCII-only lowering keeps the offsets of lower valid in body
	// (bytes.ToLower may change the length of non-ASCII text).
	lower := make([]byte, len(body))
	for i, c := range body {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	for _, tag := range []string{"title", "h1"} {
		i := bytes.Index(lower, []byte("<"+tag))
		if i < 0 {
			continue
		}
		j := bytes.IndexByte(lower[i:], '>')
		if j < 0 {
			continue
		}
		start := i + j + 1
		end := bytes.Index(lower[start:], []byte("</"+tag))
		if end < 0 {
			continue
		}
		t := strings.Join(strings.Fields(html.UnescapeString(string(body[start:start+end]))), " ")
		if t != "" {
			return t
		}
	}
	return ""
}

// cleanText keeps a server-supplied text printable, on one line and short.
func cleanText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return s
}

// maxRetryAfter caps what a server can make us wait.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads Retry-After (seconds or an HTTP date), else
// x-ratelimit-reset (seconds).
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	var d time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			d = secs(n)
		} else if t, err := http.ParseTime(v); err == nil {
			d = max(t.Sub(now), 0)
		}
	}
	if d == 0 {
		if n, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-Ratelimit-Reset")), 64); err == nil && n > 0 {
			d = secs(n)
		}
	}
	return min(d, maxRetryAfter)
}

func secs(n float64) time.Duration {
	if n > maxRetryAfter.Seconds() || n != n {
		return maxRetryAfter
	}
	return time.Duration(n * float64(time.Second))
}
