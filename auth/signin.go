package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// Result is a successful sign-in, not yet saved (see Save).
type Result struct {
	Server   string // normalised base URL
	Username string
	Token    string
	User     *zipline.User
	Info     *zipline.ServerInfo
}

// String hides the token.
func (r *Result) String() string {
	if r == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{%s %s token:%s}", r.Server, r.Username, redact(r.Token))
}

// GoString hides the token from %#v too.
func (r *Result) GoString() string { return r.String() }

// LogValue hides the token from log/slog.
func (r *Result) LogValue() slog.Value {
	if r == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("server", r.Server), slog.String("user", r.Username))
}

// logoutTimeout bounds the best-effort logout after a password sign-in.
const logoutTimeout = 5 * time.Second

// SignInPassword signs in with a username and password (and the TOTP code,
// "" at first), exchanges the cookie session for an API token, ends the
// session, and confirms the token works. An error matching
// zipline.ErrTOTPRequired means: ask for the code and call again with it.
// Errors read plainly (err.Error() equals Explain(err)).
func SignInPassword(ctx context.Context, c *zipline.Client, username, password, totpCode string) (*Result, error) {
	if c == nil {
		return nil, errors.New("auth: SignInPassword needs a client")
	}
	username = strings.TrimSpace(username)
	if username == "" {
		return nil, &PlainError{Msg: "Enter your Zipline username."}
	}
	if strings.TrimSpace(password) == "" {
		return nil, &PlainError{Msg: "Enter your password."}
	}
	code := strings.Join(strings.Fields(totpCode), "")
	for _, r := range code {
		if !unicode.IsDigit(r) {
			return nil, &PlainError{Msg: "The two-factor code is the 6 digits shown by your authenticator app.", Err: zipline.ErrInvalidTOTP}
		}
	}
	info, err := probe(ctx, c)
	if err != nil {
		return nil, err
	}
	sess, err := c.Login(ctx, username, password, code)
	if err != nil {
		return nil, plainAt(fmt.Errorf("sign in as %s: %w", username, err), c.Server())
	}
	tok, err := sess.APIToken(ctx)
	// The cookie session has served its purpose; leave none behind.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	if lerr := sess.Logout(lctx); lerr != nil {
		slog.Debug("logout after sign-in failed (harmless)", "server", c.Server(), "err", lerr)
	}
	cancel()
	if err != nil {
		return nil, plainAt(fmt.Errorf("get an API token: %w", err), c.Server())
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return nil, &PlainError{Msg: "The server signed you in but sent no API token: sign in by pasting a token instead."}
	}
	u, err := c.WithToken(tok).User(ctx)
	if err != nil {
		if errors.Is(err, zipline.ErrUnauthorized) {
			return nil, &PlainError{Msg: "The server issued an API token and then refused it: check any proxy in front of Zipline, or sign in by pasting a token.", Err: err}
		}
		return nil, plainAt(fmt.Errorf("check the new token: %w", err), c.Server())
	}
	name := u.Username
	if name == "" {
		name = username
	}
	return &Result{Server: serverOf(c), Username: name, Token: tok, User: u, Info: info}, nil
}

// SignInToken checks a pasted API token (surrounding blanks are dropped)
// and returns whose it is. Errors read plainly.
func SignInToken(ctx context.Context, c *zipline.Client, token string) (*Result, error) {
	if c == nil {
		return nil, errors.New("auth: SignInToken needs a client")
	}
	tok, err := cleanToken(token)
	if err != nil {
		return nil, plain(err)
	}
	info, err := probe(ctx, c)
	if err != nil {
		return nil, err
	}
	u, err := c.WithToken(tok).User(ctx)
	if err != nil {
		if errors.Is(err, zipline.ErrUnauthorized) {
			return nil, plain(fmt.Errorf("%w: %w", ErrTokenRejected, err))
		}
		return nil, plainAt(fmt.Errorf("check the token: %w", err), c.Server())
	}
	if u.Username == "" {
		return nil, &PlainError{Msg: "The server accepted the token but did not say whose it is: is this a Zipline v4 server?", Err: zipline.ErrNotZipline}
	}
	return &Result{Server: serverOf(c), Username: u.Username, Token: tok, User: u, Info: info}, nil
}

// Verify checks that a client's token still works, e.g. at start-up.
// Errors read plainly; a dead token matches zipline.ErrUnauthorized.
func Verify(ctx context.Context, c *zipline.Client) (*zipline.User, error) {
	u, err := c.User(ctx)
	if err != nil {
		return nil, plainAt(err, c.Server())
	}
	return u, nil
}

func probe(ctx context.Context, c *zipline.Client) (*zipline.ServerInfo, error) {
	info, err := c.Probe(ctx)
	if err != nil {
		return nil, plainAt(err, c.Server())
	}
	if info != nil && info.FirstSetup {
		return nil, plain(ErrFirstSetup)
	}
	return info, nil
}

func serverOf(c *zipline.Client) string {
	s := c.Server()
	if n, err := NormalizeServer(s); err == nil {
		return n
	}
	return s
}

// cleanToken trims what a paste adds (blanks, newlines, quotes) and
// refuses what cannot be a token.
func cleanToken(s string) (string, error) {
	t := strings.TrimSpace(s)
	if len(t) >= 2 && (t[0] == '"' && t[len(t)-1] == '"' || t[0] == '\'' && t[len(t)-1] == '\'') {
		t = strings.TrimSpace(t[1 : len(t)-1])
	}
	if t == "" {
		return "", &PlainError{Msg: "Paste your API token (Zipline dashboard: avatar → Copy token)."}
	}
	if len(t) >= 7 && strings.EqualFold(t[:7], "bearer ") {
		return "", ErrBearerPrefix
	}
	if strings.IndexFunc(t, unicode.IsSpace) >= 0 {
		return "", &PlainError{Msg: "The token has spaces or line breaks inside: copy it again as one piece."}
	}
	return t, nil
}

// Save stores r's token in the keyring and makes r the active account in
// cfg, written to path. If the keyring cannot take the token, nothing is
// written and the error (ErrTokenNotStored, also matching the keyring
// error) says how to use ZIPLINE_SERVER and ZIPLINE_TOKEN instead; the
// token is never written to a file.
func Save(cfg *Config, path string, store Store, r *Result) error {
	if cfg == nil || store == nil || r == nil {
		return errors.New("auth: Save needs a config, a store and a result")
	}
	server, err := NormalizeServer(r.Server)
	if err != nil {
		return err
	}
	if err := store.Set(server, r.Username, r.Token); err != nil {
		why := strings.TrimSuffix(Explain(err), ".")
		why = strings.TrimSuffix(strings.TrimSuffix(why, ", "+envAlternative), ": set ZIPLINE_SERVER and ZIPLINE_TOKEN in the environment instead")
		return &PlainError{
			Msg: fmt.Sprintf("Signed in as %s, but the token could not be saved: %s. "+
				"To go on without a keyring, set %s=%s and %s=<your token> in the environment "+
				"(copy the token from the Zipline dashboard: avatar → Copy token).",
				r.Username, why, ServerEnv, server, TokenEnv),
			Err: fmt.Errorf("%w: %w", ErrTokenNotStored, err),
		}
	}
	oldServer, oldUser := cfg.Server, cfg.Username
	cfg.Server, cfg.Username = server, r.Username
	if err := cfg.Save(path); err != nil {
		cfg.Server, cfg.Username = oldServer, oldUser
		return err
	}
	// The previous account's token is no longer referenced by anything.
	if oldUser != "" && AccountKey(oldServer, oldUser) != AccountKey(server, r.Username) {
		if err := store.Delete(oldServer, oldUser); err != nil && !errors.Is(err, ErrNotSignedIn) {
			slog.Debug("remove the previous account's token", "server", oldServer, "err", err)
		}
	}
	return nil
}

// SignOut removes the active account's token from the keyring and clears
// Username in cfg (Server stays, to prefill the next sign-in), written to
// path. The token itself stays valid on the server.
func SignOut(cfg *Config, path string, store Store) error {
	if cfg == nil || store == nil {
		return errors.New("auth: SignOut needs a config and a store")
	}
	if cfg.Username != "" {
		if err := store.Delete(cfg.Server, cfg.Username); err != nil && !errors.Is(err, ErrNotSignedIn) {
			return &PlainError{Msg: "Could not remove the token from the keyring: " + Explain(err), Err: err}
		}
	}
	cfg.Username = ""
	return cfg.Save(path)
}
