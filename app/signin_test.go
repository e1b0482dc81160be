package app

import (
	"context"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline"
)

// totpAccount wants a two-factor code from "bob".
type totpAccount struct {
	fakeAccount
	mu        sync.Mutex
	allowHTTP []bool
}

func (a *totpAccount) SignInPassword(ctx context.Context, server, user, pass, code string, allowHTTP bool) (string, error) {
	a.mu.Lock()
	a.allowHTTP = append(a.allowHTTP, allowHTTP)
	a.mu.Unlock()
	if user == "bob" && pass == "secret" {
		switch code {
		case "":
			return "", zipline.ErrTOTPRequired
		case "123456":
		default:
			return "", zipline.ErrInvalidTOTP
		}
	}
	return a.fakeAccount.SignInPassword(ctx, server, user, pass, code, allowHTTP)
}

func typeServer(t *testing.T, h *harness, s *signInWindow, url string) {
	t.Helper()
	s.server.SetText("")
	test.Type(s.server, url)
}

func TestSignInPassword(t *testing.T) {
	acct := &fakeAccount{}
	h := newHarness(t, acct)
	s := h.ui.signIn
	if s == nil {
		t.Fatal("no sign-in window")
	}
	if s.serverRow.Visible() {
		t.Error("the empty server status line is shown (a gap above the tabs)")
	}
	typeServer(t, h, s, "z.example.com")
	h.loop.until(t, "server found", func() bool { return s.serverState.Text == "Zipline 4.6.3 found" })
	if !s.serverRow.Visible() {
		t.Error("the server status line is hidden while it has something to say")
	}

	test.Type(s.username, "alice")
	test.Type(s.password, "wrong")
	test.Tap(s.passwordBtn)
	want := uiText(auth.Explain(zipline.ErrInvalidCredentials))
	h.loop.until(t, "inline error", func() bool { return s.errLabel.Visible() && s.errLabel.Text == want })
	if s.passwordBtn.Disabled() {
		t.Error("button still disabled after the error")
	}

	s.password.SetText("")
	test.Type(s.password, "secret")
	test.Tap(s.passwordBtn)
	h.loop.until(t, "signed in", func() bool { return h.ui.user == "alice" })
	if h.ui.signIn != nil {
		t.Error("the sign-in window stayed open")
	}
	if h.ui.server != "https://z.example.com" {
		t.Errorf("server = %q", h.ui.server)
	}
	h.loop.until(t, "engine told", func() bool {
		h.engine.mu.Lock()
		defer h.engine.mu.Unlock()
		return h.engine.creds == 1
	})
	if got := h.ui.TrayMenu().Items[0].Label; got != "Signed in as alice on z.example.com" {
		t.Errorf("tray status = %q", got)
	}
}

func TestSignInTOTP(t *testing.T) {
	acct := &totpAccount{}
	h := newHarness(t, acct)
	s := h.ui.signIn
	typeServer(t, h, s, "https://z.example.com")
	test.Type(s.username, "bob")
	test.Type(s.password, "secret")
	if s.totpBox.Visible() {
		t.Fatal("the code field shows before the server asked")
	}
	test.Tap(s.passwordBtn)
	h.loop.until(t, "code field", s.totpBox.Visible)
	if !strings.Contains(s.errLabel.Text, "two-factor code") {
		t.Errorf("message = %q", s.errLabel.Text)
	}

	test.Type(s.totp, "000000")
	test.Tap(s.passwordBtn)
	want := uiText(auth.Explain(zipline.ErrInvalidTOTP))
	h.loop.until(t, "wrong code message", func() bool { return s.errLabel.Text == want && !s.working })

	s.totp.SetText("123456")
	test.Tap(s.passwordBtn)
	h.loop.until(t, "signed in", func() bool { return h.ui.user == "bob" })
}

func TestSignInToken(t *testing.T) {
	acct := &fakeAccount{}
	h := newHarness(t, acct)
	s := h.ui.signIn
	s.tabs.SelectIndex(1)
	typeServer(t, h, s, "https://z.example.com")
	if s.token.Password != true {
		t.Error("the token field is not masked")
	}
	test.Tap(s.tokenBtn)
	h.loop.until(t, "bad token message", func() bool { return s.errLabel.Text == uiText(auth.Explain(zipline.ErrUnauthorized)) })

	test.Type(s.token, "tok")
	test.Tap(s.tokenBtn)
	h.loop.until(t, "signed in", func() bool { return h.ui.user == "alice" })
	if s.token.Text != "" {
		t.Error("the token stays in the closed window")
	}
}

func TestSignInServerChecks(t *testing.T) {
	acct := &fakeAccount{probeErr: zipline.ErrNotZipline}
	h := newHarness(t, acct)
	s := h.ui.signIn
	typeServer(t, h, s, "https://example.com")
	want := uiText(auth.Explain(zipline.ErrNotZipline))
	h.loop.until(t, "not zipline", func() bool { return s.serverState.Text == want })

	acct.mu.Lock()
	acct.probeErr = errBoom
	acct.mu.Unlock()
	test.Type(s.server, "x")
	h.loop.until(t, "cannot reach", func() bool { return strings.Contains(s.serverState.Text, "reach") })
}

func TestSignInPlainHTTPAsksFirst(t *testing.T) {
	acct := &totpAccount{}
	h := newHarness(t, acct)
	s := h.ui.signIn
	typeServer(t, h, s, "http://zipline.lan")
	test.Type(s.username, "alice")
	test.Type(s.password, "secret")
	test.Tap(s.passwordBtn)
	if s.confirm == nil {
		t.Fatal("no question before sending a password over plain http")
	}
	if s.working {
		t.Fatal("sign-in started before the user agreed")
	}
	s.confirm.Confirm()
	h.loop.until(t, "signed in", func() bool { return h.ui.user == "alice" })
	acct.mu.Lock()
	defer acct.mu.Unlock()
	if len(acct.allowHTTP) != 1 || !acct.allowHTTP[0] {
		t.Errorf("allowHTTP = %v, want [true]", acct.allowHTTP)
	}

	// Loopback needs no question.
	if insecure("http://127.0.0.1:3000") || insecure("http://localhost:3000") || !insecure("http://10.0.0.2") {
		t.Error("insecure() misjudges loopback")
	}
}
