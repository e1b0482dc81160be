package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// Sign-in errors of this package. Each matches with errors.Is.
var (
	// ErrBearerPrefix: a pasted token starts with "Bearer ".
	ErrBearerPrefix = errors.New("paste the token without the 'Bearer ' prefix — Zipline sends it bare")
	// ErrTokenRejected: the server does not accept a pasted token (401).
	ErrTokenRejected = errors.New("the server did not accept this token")
	// ErrFirstSetup: the server has no user yet.
	ErrFirstSetup = errors.New("this Zipline server has no users yet")
	// ErrTokenNotStored: signed in, but the keyring could not keep the token.
	ErrTokenNotStored = errors.New("the token could not be saved")
)

// PlainError is an error whose text is meant for the user as is; it keeps
// the original error for errors.Is and errors.As.
type PlainError struct {
	Msg string
	Err error
}

func (e *PlainError) Error() string { return e.Msg }
func (e *PlainError) Unwrap() error { return e.Err }

// plain wraps err with its Explain text, so err.Error() can be shown.
func plain(err error) error { return plainAt(err, "") }

// plainAt is plain, naming server when the error does not.
func plainAt(err error, server string) error {
	if err == nil {
		return nil
	}
	var pe *PlainError
	if errors.As(err, &pe) && pe == err {
		return err
	}
	return &PlainError{Msg: explainAt(err, server), Err: err}
}

// Explain says what went wrong in one sentence a user can act on, for any
// error of sign-in, the keyring, the settings file or the network.
func Explain(err error) string { return explainAt(err, "") }

// explainAt is Explain, naming server when the error does not.
func explainAt(err error, server string) string {
	if err == nil {
		return ""
	}
	var pe *PlainError
	if errors.As(err, &pe) {
		return pe.Msg
	}
	var ke *KeyringError
	if errors.As(err, &ke) {
		return ke.Message
	}
	host := hostOf(err)
	if host == "" && server != "" {
		if u, perr := url.Parse(server); perr == nil {
			host = u.Host
		}
	}
	at := ""
	if host != "" {
		at = " " + host
	}
	switch {
	case errors.Is(err, ErrBearerPrefix):
		return "Paste the token without the 'Bearer ' prefix: Zipline sends it bare."
	case errors.Is(err, ErrTokenRejected):
		return "The server did not accept this token: copy it again from the Zipline dashboard (avatar → Copy token); resetting a token makes the old ones stop working."
	case errors.Is(err, ErrFirstSetup):
		return "This Zipline server has no users yet: finish its setup in the web page first, then sign in."
	case errors.Is(err, ErrNotSignedIn):
		return capitalize(err.Error()) + "."
	case errors.Is(err, zipline.ErrInvalidCredentials):
		return "Wrong username or password. Accounts that sign in with OAuth or a passkey have no password: paste an API token instead (Zipline dashboard: avatar → Copy token)."
	case errors.Is(err, zipline.ErrTOTPRequired):
		return "This account uses two-factor sign-in: enter the 6-digit code from your authenticator app."
	case errors.Is(err, zipline.ErrInvalidTOTP):
		return "Wrong two-factor code: enter the current 6-digit code from your authenticator app (if it keeps failing, check the device's clock)."
	case errors.Is(err, zipline.ErrUnauthorized):
		return "Zipline rejected the saved token: sign in again (a token stops working when it is reset, when the server's secret changes, or after a server upgrade past 4.4.0)."
	case strings.Contains(strings.ToLower(err.Error()), "http request to an https server"):
		return fmt.Sprintf("The server%s expects https on that port: use an https:// address.", at)
	case errors.Is(err, zipline.ErrNotZipline):
		return fmt.Sprintf("The address%s answers, but not as a Zipline server: check the URL (the address of your Zipline web page, e.g. https://zipline.example.com).", at)
	case errors.Is(err, zipline.ErrV3):
		return "This is a Zipline v3 server; zipline-tray needs Zipline v4 or newer: upgrade the server."
	case errors.Is(err, zipline.ErrInsecureHTTP):
		return "Plain http to a server that is not on this machine would send the token unencrypted: use https, or allow http explicitly (allowHTTP in the settings)."
	case errors.Is(err, zipline.ErrRateLimited):
		var ae *zipline.APIError
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			return fmt.Sprintf("The server asked us to slow down (rate limit): try again in %s.", ae.RetryAfter.Round(time.Second))
		}
		return "The server asked us to slow down (rate limit): wait a few seconds and try again."
	case errors.Is(err, zipline.ErrForbidden):
		return "The server refused: this account is not allowed to do that."
	case errors.Is(err, zipline.ErrServer):
		return fmt.Sprintf("The server%s had an internal error: try again later.", at)
	}
	var ae *zipline.APIError
	if errors.As(err, &ae) && errors.Is(err, zipline.ErrServer) {
		return fmt.Sprintf("The server%s had an internal error (HTTP %d): try again later.", at, ae.Status)
	}
	if s := explainNetwork(err, host); s != "" {
		return s
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "Cancelled."
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("The server%s did not answer in time: check the address and your connection.", at)
	}
	s := strings.TrimSpace(err.Error())
	if s == "" {
		return "Something went wrong."
	}
	s = capitalize(s)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func explainNetwork(err error, host string) string {
	at := ""
	if host != "" {
		at = " " + host
	}
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.As(err, &unknownCA):
		return fmt.Sprintf("The certificate of%s is not trusted (unknown authority): if the server uses a private or self-signed CA, set a CA file (caFile in the settings).", orServer(host))
	case errors.As(err, &hostErr):
		return fmt.Sprintf("The certificate of%s is for a different name (%s): check the address.", orServer(host), shorten(hostErr.Error(), 120))
	case errors.As(err, &invalid):
		return fmt.Sprintf("The certificate of%s is not valid (%s): the server must renew it, or check this computer's clock.", orServer(host), shorten(invalid.Error(), 120))
	case errors.As(err, &recErr):
		return fmt.Sprintf("The server%s does not speak https on that port: if it serves plain http, use an http:// address.", at)
	case errors.As(err, &dnsErr):
		name := dnsErr.Name
		if name == "" {
			name = host
		}
		return fmt.Sprintf("Cannot find the server %s: the name does not resolve (DNS lookup failed); check the address, or your network or VPN.", name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("Nothing is listening at%s (connection refused): check the address and port, and that Zipline is running.", orServer(host))
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("Cannot reach%s: the network or host is unreachable.", orServer(host))
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Sprintf("The server%s closed the connection unexpectedly: try again, and check any proxy in front of it.", at)
	case strings.Contains(err.Error(), "tls: "):
		return fmt.Sprintf("The secure connection to%s failed (%s).", orServer(host), shorten(err.Error(), 120))
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("The server%s did not answer in time: check the address and your connection.", at)
	}
	return ""
}

func orServer(host string) string {
	if host == "" {
		return " the server"
	}
	return " " + host
}

// hostOf finds the host an error is about, from a *url.Error or *net.DNSError.
func hostOf(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Host
		}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.Name
	}
	return ""
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
