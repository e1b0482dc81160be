package zipline

import (
	"errors"
	"time"
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
}
