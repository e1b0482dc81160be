package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
)

func urlErr(err error) error {
	return &url.Error{Op: "Get", URL: "https://z.example:8443/api/server/public", Err: err}
}

func TestExplain(t *testing.T) {
	cases := []struct {
		err  error
		want []string
	}{
		{urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "z.example", IsNotFound: true}}),
			[]string{"Cannot find the server z.example", "DNS"}},
		{urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
			[]string{"Nothing is listening at z.example:8443", "connection refused"}},
		{urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}),
			[]string{"not trusted", "CA file"}},
		{urlErr(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "z.example"}),
			[]string{"different name"}},
		{urlErr(x509.CertificateInvalidError{Reason: x509.Expired}),
			[]string{"not valid", "clock"}},
		{urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}),
			[]string{"does not speak https", "http://"}},
		{urlErr(context.DeadlineExceeded), []string{"did not answer in time"}},
		{fmt.Errorf("login: %w", zipline.ErrInvalidCredentials), []string{"Wrong username or password", "token"}},
		{zipline.ErrTOTPRequired, []string{"6-digit code"}},
		{zipline.ErrInvalidTOTP, []string{"Wrong two-factor code"}},
		{zipline.ErrUnauthorized, []string{"sign in again"}},
		{zipline.ErrNotZipline, []string{"not as a Zipline server"}},
		{zipline.ErrV3, []string{"v3", "upgrade"}},
		{zipline.ErrInsecureHTTP, []string{"https", "allowHTTP"}},
		{zipline.ErrRateLimited, []string{"wait"}},
		{ErrNotSignedIn, []string{"zipline-tray login"}},
		{ErrBearerPrefix, []string{"'Bearer '"}},
		{NoKeyringError(), []string{"no D-Bus session bus"}},
		{context.Canceled, []string{"Cancelled"}},
		{errors.New("something odd"), []string{"Something odd."}},
	}
	for _, c := range cases {
		got := Explain(c.err)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("Explain(%v) = %q, want it to contain %q", c.err, got, w)
			}
		}
		if strings.Contains(got, "\n") || got == "" {
			t.Errorf("Explain(%v) = %q: not one line", c.err, got)
		}
	}
	if Explain(nil) != "" {
		t.Error("Explain(nil) not empty")
	}
}
