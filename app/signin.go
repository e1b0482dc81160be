package app

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// SignInTitle is the sign-in window's title.
const SignInTitle = "Sign in to Zipline"

// TokenHint tells where the token is in Zipline's dashboard.
const TokenHint = "In Zipline: click your avatar, then Copy token"

// probeDelay is how long the server field waits for typing to stop before
// it checks the address.
var probeDelay = 400 * time.Millisecond

type signInWindow struct {
	u   *UI
	win fyne.Window

	server      *widget.Entry
	serverState *widget.Label
	serverIcon  *widget.Icon
	serverRow   *fyne.Container // hidden while there is nothing to say

	tabs     *container.AppTabs
	username *widget.Entry
	password *widget.Entry
	totp     *widget.Entry
	totpBox  *fyne.Container
	token    *widget.Entry

	passwordBtn *widget.Button
	tokenBtn    *widget.Button
	busy        *widget.ProgressBarInfinite
	errLabel    *widget.Label

	probeTimer  *time.Timer
	probeCancel context.CancelFunc
	probeSeq    int
	working     bool
	confirm     *dialog.ConfirmDialog // the plain-http question, while shown
}

// ShowSignIn opens the sign-in window (or raises it).
func (u *UI) ShowSignIn() {
	if u.signIn == nil {
		u.signIn = newSignIn(u)
	}
	u.signIn.win.Show()
	u.signIn.win.RequestFocus()
}

func newSignIn(u *UI) *signInWindow {
	s := &signInWindow{u: u}
	s.win = u.app.NewWindow(SignInTitle)
	s.win.SetIcon(AppIcon)
	s.win.SetOnClosed(func() {
		s.stopProbe()
		u.signIn = nil
	})

	s.server = widget.NewEntry()
	s.server.SetPlaceHolder("https://zipline.example.com")
	s.serverState = widget.NewLabel("")
	s.serverState.Importance = widget.LowImportance
	s.serverIcon = widget.NewIcon(nil)
	s.server.OnChanged = func(string) { s.scheduleProbe() }

	s.username = widget.NewEntry()
	s.username.SetPlaceHolder("Username")
	s.password = widget.NewPasswordEntry()
	s.password.SetPlaceHolder("Password")
	s.totp = widget.NewEntry()
	s.totp.SetPlaceHolder("6-digit code")
	totpHelp := widget.NewLabel("This account uses two-factor sign-in: enter the code from your authenticator app.")
	totpHelp.Wrapping = fyne.TextWrapWord
	s.totpBox = container.NewVBox(totpHelp, widget.NewForm(widget.NewFormItem("Code", s.totp)))
	s.totpBox.Hide()
	s.passwordBtn = widget.NewButtonWithIcon("Sign in", theme.LoginIcon(), s.signInPassword)
	s.passwordBtn.Importance = widget.HighImportance
	s.password.OnSubmitted = func(string) { s.signInPassword() }
	s.totp.OnSubmitted = func(string) { s.signInPassword() }

	passwordTab := container.NewVBox(
		widget.NewForm(
			widget.NewFormItem("Username", s.username),
			widget.NewFormItem("Password", s.password),
		),
		s.totpBox,
		container.NewHBox(layout.NewSpacer(), s.passwordBtn),
	)

	s.token = widget.NewPasswordEntry()
	s.token.SetPlaceHolder("Paste your API token")
	s.token.OnSubmitted = func(string) { s.signInToken() }
	hint := widget.NewLabelWithStyle(TokenHint, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	hint.Importance = widget.LowImportance
	s.tokenBtn = widget.NewButtonWithIcon("Sign in", theme.LoginIcon(), s.signInToken)
	s.tokenBtn.Importance = widget.HighImportance
	tokenTab := container.NewVBox(
		widget.NewForm(widget.NewFormItem("Token", s.token)),
		hint,
		container.NewHBox(layout.NewSpacer(), s.tokenBtn),
	)

	s.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Password", theme.AccountIcon(), container.NewPadded(passwordTab)),
		container.NewTabItemWithIcon("Token", theme.ContentPasteIcon(), container.NewPadded(tokenTab)),
	)

	s.busy = widget.NewProgressBarInfinite()
	s.busy.Stop()
	s.busy.Hide()
	s.errLabel = widget.NewLabel("")
	s.errLabel.Wrapping = fyne.TextWrapWord
	s.errLabel.Importance = widget.DangerImportance
	s.errLabel.Hide()

	heading := widget.NewLabelWithStyle("Connect to your Zipline server", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	heading.SizeName = theme.SizeNameSubHeadingText
	serverForm := widget.NewForm(widget.NewFormItem("Server", s.server))
	s.serverRow = container.NewHBox(s.serverIcon, s.serverState)
	s.serverRow.Hide()

	// Room around the edges, more below so the button does not sit on the
	// window's bottom edge.
	pad := theme.Padding()
	s.win.SetContent(container.New(layout.NewCustomPaddedLayout(2*pad, 4*pad, 3*pad, 3*pad), container.NewVBox(
		container.NewHBox(widget.NewIcon(AppIcon), heading),
		serverForm,
		s.serverRow,
		s.tabs,
		s.busy,
		s.errLabel,
	)))
	s.win.Resize(fyne.NewSize(460, 0))

	if u.server != "" {
		s.server.SetText(u.server)
	}
	if u.user != "" {
		s.username.SetText(u.user)
	}
	return s
}

// scheduleProbe checks the server address once typing pauses; each
// keystroke cancels the check before.
func (s *signInWindow) scheduleProbe() {
	s.stopProbe()
	s.probeSeq++
	seq := s.probeSeq
	raw := strings.TrimSpace(s.server.Text)
	if raw == "" {
		s.setServerState(nil, "")
		return
	}
	s.setServerState(theme.SearchIcon(), "Checking…")
	ctx, cancel := context.WithCancel(s.u.ctx)
	s.probeCancel = cancel
	s.probeTimer = time.AfterFunc(probeDelay, func() {
		pctx, pcancel := context.WithTimeout(ctx, 15*time.Second)
		defer pcancel()
		version, err := s.u.opts.Account.Probe(pctx, normalizeURL(raw))
		if ctx.Err() != nil {
			return
		}
		s.u.do(func() {
			if seq != s.probeSeq {
				return
			}
			s.showProbe(version, err)
		})
	})
}

func (s *signInWindow) stopProbe() {
	if s.probeTimer != nil {
		s.probeTimer.Stop()
	}
	if s.probeCancel != nil {
		s.probeCancel()
	}
}

func (s *signInWindow) showProbe(version string, err error) {
	switch {
	case err == nil:
		v := version
		if v == "" {
			v = "4.x"
		}
		s.setServerState(theme.ConfirmIcon(), "Zipline "+v+" found")
	case errors.Is(err, zipline.ErrNotZipline), errors.Is(err, zipline.ErrV3):
		s.setServerState(theme.WarningIcon(), s.u.opts.Account.Explain(err))
	default:
		msg := s.u.opts.Account.Explain(err)
		if !strings.Contains(strings.ToLower(msg), "reach") {
			msg = "Cannot reach the server: " + msg
		}
		s.setServerState(theme.ErrorIcon(), msg)
	}
}

func (s *signInWindow) setServerState(icon fyne.Resource, text string) {
	s.serverIcon.SetResource(icon)
	if icon == nil {
		s.serverIcon.Hide()
	} else {
		s.serverIcon.Show()
	}
	s.serverState.SetText(uiText(text))
	if text == "" {
		s.serverRow.Hide()
	} else {
		s.serverRow.Show()
	}
}

// normalizeURL adds https:// to a bare host.
func normalizeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw != "" && !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	return strings.TrimRight(raw, "/")
}

// insecure reports whether server is plain http to a host that is not
// loopback: sending a token there needs the user's consent.
func insecure(server string) bool {
	p, err := url.Parse(server)
	if err != nil || !strings.EqualFold(p.Scheme, "http") {
		return false
	}
	h := p.Hostname()
	if strings.EqualFold(h, "localhost") {
		return false
	}
	ip := net.ParseIP(h)
	return ip == nil || !ip.IsLoopback()
}

func (s *signInWindow) showError(msg string) {
	s.errLabel.SetText(uiText(msg))
	s.errLabel.Show()
}

// start validates the server, asks about plain http, then runs fn in the
// background with the normalised server and the http permission.
func (s *signInWindow) start(fn func(ctx context.Context, server string, allowHTTP bool) (string, error)) {
	if s.working {
		return
	}
	server := normalizeURL(s.server.Text)
	if server == "" {
		s.showError("Enter your Zipline server's address, e.g. https://zipline.example.com.")
		return
	}
	run := func(allowHTTP bool) {
		s.setWorking(true)
		s.errLabel.Hide()
		s.u.goBackground(func(ctx context.Context) func() {
			ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			name, err := fn(ctx, server, allowHTTP)
			return func() { s.finish(server, name, err) }
		})
	}
	if !insecure(server) {
		run(false)
		return
	}
	d := dialog.NewConfirm("Use plain http?",
		"This server address is not encrypted (http, not https).\n"+
			"Your password and token would cross the network readable by anyone on the way.\n"+
			"Continue only on a network you trust.",
		func(ok bool) {
			if ok {
				run(true)
			}
		}, s.win)
	d.SetConfirmText("Use http anyway")
	d.SetDismissText("Cancel")
	d.SetOnClosed(func() { s.confirm = nil })
	s.confirm = d
	d.Show()
}

func (s *signInWindow) setWorking(on bool) {
	s.working = on
	if on {
		s.passwordBtn.Disable()
		s.tokenBtn.Disable()
		s.busy.Show()
		s.busy.Start()
		return
	}
	s.passwordBtn.Enable()
	s.tokenBtn.Enable()
	s.busy.Stop()
	s.busy.Hide()
}

func (s *signInWindow) signInPassword() {
	user, pass, code := s.username.Text, s.password.Text, strings.TrimSpace(s.totp.Text)
	s.start(func(ctx context.Context, server string, allowHTTP bool) (string, error) {
		return s.u.opts.Account.SignInPassword(ctx, server, user, pass, code, allowHTTP)
	})
}

func (s *signInWindow) signInToken() {
	tok := s.token.Text
	s.start(func(ctx context.Context, server string, allowHTTP bool) (string, error) {
		return s.u.opts.Account.SignInToken(ctx, server, tok, allowHTTP)
	})
}

func (s *signInWindow) finish(server, name string, err error) {
	s.setWorking(false)
	if err != nil {
		if errors.Is(err, zipline.ErrTOTPRequired) && !s.totpBox.Visible() {
			s.totpBox.Show()
			s.win.Canvas().Focus(s.totp)
			s.showError("Enter the two-factor code to finish signing in.")
			return
		}
		s.showError(s.u.opts.Account.Explain(err))
		return
	}
	s.password.SetText("")
	s.token.SetText("")
	s.u.signedIn(server, name)
	s.win.Close()
}
