package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/uploader"
	"github.com/zipline-tray/zipline-tray/zipline"
)

var loginCmd = Command{
	Name:    "login",
	Summary: "sign in to a Zipline server and keep the token in the keyring",
	Usage: `Usage: zipline-tray login [--server URL] [--username NAME] [flags]

Signs in with a username and password (and a two-factor code if the
account has one), fetches an API token and keeps it in the system keyring.
The password is not saved. On a terminal, what is missing is asked for
(the password without echo); leave the username empty to paste an API
token instead.

Accounts that sign in with OAuth (Discord, GitHub, Google, OIDC) or a
passkey have no password: use --token-stdin with the token from the Zipline
dashboard (avatar → Copy token).

Plain http:// is accepted for a server on this machine (localhost);
for another machine it needs --allow-http, because the password and token
would cross the network unencrypted.

Exit status: 0 signed in, 1 sign-in failed (wrong password, unreachable
server, no keyring...), 2 usage error or a question with no terminal to ask.

Examples:
  zipline-tray login --server https://zipline.example.com --username alice
  printf '%s\n' "$PASSWORD" | zipline-tray login --server ... --username alice --password-stdin --totp 123456
  printf '%s\n' "$TOKEN" | zipline-tray login --server https://zipline.example.com --token-stdin`,
}

func init() {
	loginCmd.Run = runLogin
	register(loginCmd)
}

type loginFlags struct {
	server, username, totp, caFile string
	passwordStdin, tokenStdin      bool
	allowHTTP                      bool
}

func runLogin(ctx context.Context, env *Env, args []string) int {
	var f loginFlags
	fs := newFlags(loginCmd.Name)
	fs.StringVar(&f.server, "server", "", "the Zipline server `URL` (default: $ZIPLINE_SERVER, then the saved one)")
	fs.StringVar(&f.username, "username", "", "sign in as `NAME`")
	fs.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	fs.BoolVar(&f.tokenStdin, "token-stdin", false, "read an API token from standard input instead of signing in with a password")
	fs.StringVar(&f.totp, "totp", "", "the two-factor `CODE` from your authenticator app, if the account has two-factor sign-in")
	fs.BoolVar(&f.allowHTTP, "allow-http", false, "allow plain http:// to a server on another machine (sends the password and token unencrypted)")
	fs.StringVar(&f.caFile, "ca-file", "", "also trust the certificate authorities in this PEM `FILE` (a private CA)")
	pos, code, done := parseFlags(env, fs, loginCmd, args)
	if done {
		return code
	}
	if len(pos) == 1 && f.server == "" {
		f.server = pos[0] // "zipline-tray login https://..." reads naturally
	} else if len(pos) > 0 {
		return usageError(env, loginCmd, "unexpected argument %q", pos[len(pos)-1])
	}
	if f.passwordStdin && f.tokenStdin {
		return usageError(env, loginCmd, "--password-stdin and --token-stdin cannot be used together")
	}
	if f.tokenStdin && (f.username != "" || f.totp != "") {
		return usageError(env, loginCmd, "--token-stdin signs in with the token alone; leave out --username and --totp")
	}
	cfg, err := env.config()
	if err != nil {
		env.errorf("zipline-tray: %v\n", err)
		return ExitFailure
	}

	// The server: flag, environment, saved, or asked.
	raw := f.server
	for _, s := range []string{env.Getenv(auth.ServerEnv), cfg.Server} {
		if raw == "" {
			raw = s
		}
	}
	if raw == "" {
		if !env.StdinIsTerminal {
			return usageError(env, loginCmd, "which server? pass --server https://your.zipline.host")
		}
		if raw, err = env.prompt("Zipline server (e.g. https://zipline.example.com): "); err != nil || raw == "" {
			return usageError(env, loginCmd, "no server given")
		}
	}
	server, err := auth.NormalizeServer(raw)
	if err != nil {
		return usageError(env, loginCmd, "%v", err)
	}
	if f.caFile != "" {
		if _, err := os.Stat(f.caFile); err != nil {
			return usageError(env, loginCmd, "--ca-file: %v", err)
		}
		// Saved in the settings and used from any folder later.
		if abs, err := filepath.Abs(f.caFile); err == nil {
			f.caFile = abs
		}
	}
	// Token or password?
	useToken := f.tokenStdin
	if !useToken && !f.passwordStdin && f.username == "" {
		if !env.StdinIsTerminal {
			return usageError(env, loginCmd, "no terminal to ask on: pass --username NAME --password-stdin, or --token-stdin")
		}
		f.username, err = env.prompt("Username on " + server + " (leave empty to paste an API token instead): ")
		if err != nil {
			return usageError(env, loginCmd, "no username given")
		}
		useToken = f.username == ""
	}
	if !useToken && f.username == "" {
		return usageError(env, loginCmd, "--password-stdin needs --username NAME")
	}

	conn := *cfg // connection settings for this sign-in
	conn.Server = server
	conn.AllowHTTP = f.allowHTTP || (cfg.AllowHTTP && sameServer(cfg.Server, server))
	if f.caFile != "" {
		conn.CAFile = f.caFile
	} else if !sameServer(cfg.Server, server) {
		conn.CAFile = ""
	}
	client, err := auth.NewClient(auth.Credentials{Server: server}, &conn)
	if err != nil {
		env.errorf("zipline-tray login: %s\n", explain(err))
		if errors.Is(err, zipline.ErrInsecureHTTP) {
			return ExitUsage
		}
		return ExitFailure
	}

	// Find out before asking for secrets whether the token can be kept.
	if _, err := env.store().Get(server, "~probe"); errors.Is(err, auth.ErrNoKeyring) {
		env.errorf("zipline-tray login: %s\nWithout a keyring, set %s=%s and %s=<your token> (Zipline dashboard: avatar → Copy token) in the environment instead.\n",
			explain(err), auth.ServerEnv, server, auth.TokenEnv)
		return ExitFailure
	}
	var res *auth.Result
	if useToken {
		token, err := env.readToken(f.tokenStdin)
		if err != nil {
			return usageError(env, loginCmd, "%v", err)
		}
		env.secrets = append(env.secrets, token)
		res, err = auth.SignInToken(ctx, client, token)
		if err != nil {
			return env.loginFailure(err)
		}
	} else {
		password, err := env.readPassword(f.passwordStdin, f.username, server)
		if err != nil {
			return usageError(env, loginCmd, "%v", err)
		}
		env.secrets = append(env.secrets, password)
		res, err = env.signInPassword(ctx, client, f.username, password, f.totp)
		if err != nil {
			return env.loginFailure(err)
		}
		env.secrets = append(env.secrets, res.Token)
	}

	cfg.AllowHTTP, cfg.CAFile = conn.AllowHTTP, conn.CAFile
	if !sameServer(cfg.Server, server) {
		cfg.Headers = nil // headers for another server's proxy
	}
	p, err := env.paths()
	if err == nil {
		err = auth.Save(cfg, p.ConfigFile(), env.store(), res)
	}
	if err != nil {
		env.errorf("zipline-tray login: %s\n", explain(err))
		return ExitFailure
	}
	role := ""
	if res.User != nil && res.User.Role != "" {
		role = " (" + res.User.Role + ")"
	}
	fmt.Fprintf(env.Stdout, "Signed in to %s as %s%s. The token is in the system keyring.\n", res.Server, res.Username, role)
	if env.Getenv(auth.TokenEnv) != "" {
		env.errorf("Note: %s is set in your environment and is used instead of this sign-in.\n", auth.TokenEnv)
	}
	// A running `watch` or desktop app paused on a rejected token resumes now.
	if err := uploader.Notify(p.StateDir, uploader.OpReloadCredentials); err == nil {
		fmt.Fprintln(env.Stdout, "The running zipline-tray now uses this sign-in.")
	}
	return ExitOK
}

func sameServer(a, b string) bool {
	na, err1 := auth.NormalizeServer(a)
	nb, err2 := auth.NormalizeServer(b)
	return err1 == nil && err2 == nil && na == nb
}

// readToken reads an API token from stdin, or asks for it without echo.
func (env *Env) readToken(fromStdin bool) (string, error) {
	var tok string
	var err error
	if fromStdin {
		tok, err = env.readLine()
		if err != nil {
			return "", fmt.Errorf("--token-stdin: no token on standard input")
		}
	} else {
		tok, err = env.promptSecret("API token (Zipline dashboard: avatar → Copy token): ")
		if err != nil {
			return "", fmt.Errorf("no token given")
		}
	}
	if strings.TrimSpace(tok) == "" {
		return "", errors.New("the token is empty")
	}
	return tok, nil
}

// readPassword reads the password from stdin or asks for it without echo.
func (env *Env) readPassword(fromStdin bool, user, server string) (string, error) {
	if fromStdin {
		p, err := env.readLine()
		if err != nil || p == "" {
			return "", errors.New("--password-stdin: no password on standard input")
		}
		return p, nil
	}
	if !env.StdinIsTerminal {
		return "", errors.New("no terminal to ask for the password: pass it with --password-stdin")
	}
	p, err := env.promptSecret(fmt.Sprintf("Password for %s at %s: ", user, server))
	if err != nil || p == "" {
		return "", errors.New("no password given")
	}
	return p, nil
}

// signInPassword signs in, asking for the two-factor code on a terminal
// when the server wants one and --totp was not given.
func (env *Env) signInPassword(ctx context.Context, c *zipline.Client, user, password, code string) (*auth.Result, error) {
	res, err := signInWaiting(ctx, c, user, password, code)
	if errors.Is(err, zipline.ErrTOTPRequired) && code == "" {
		if !env.StdinIsTerminal {
			return nil, errNeedTOTP
		}
		code, err = env.prompt("Two-factor code: ")
		if err != nil || code == "" {
			return nil, errNeedTOTP
		}
		res, err = signInWaiting(ctx, c, user, password, code)
	}
	return res, err
}

// signInWaiting is auth.SignInPassword that waits out the server's login
// rate limit (1 per 2 s per address), e.g. when login is run twice in a row.
func signInWaiting(ctx context.Context, c *zipline.Client, user, password, code string) (*auth.Result, error) {
	for attempt := 0; ; attempt++ {
		res, err := auth.SignInPassword(ctx, c, user, password, code)
		var ae *zipline.APIError
		if attempt >= 3 || !errors.Is(err, zipline.ErrRateLimited) || !errors.As(err, &ae) || ae.RetryAfter > 10*time.Second {
			return res, err
		}
		wait := max(ae.RetryAfter, time.Second)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

var errNeedTOTP = errors.New("this account needs a two-factor code: pass --totp CODE (the 6 digits from your authenticator app)")

func (env *Env) loginFailure(err error) int {
	switch {
	case errors.Is(err, errNeedTOTP):
		env.errorf("zipline-tray login: %v\n", err)
		return ExitUsage
	case errors.Is(err, zipline.ErrInvalidCredentials):
		env.errorf("zipline-tray login: wrong username or password.\nAccounts that sign in with OAuth or a passkey have no password: paste an API token instead\n  (Zipline dashboard: avatar → Copy token), with: zipline-tray login --token-stdin\n")
		return ExitFailure
	case errors.Is(err, zipline.ErrInvalidTOTP):
		env.errorf("zipline-tray login: wrong two-factor code: use the current 6-digit code from your authenticator app (if it keeps failing, check this computer's clock)\n")
		return ExitFailure
	}
	env.errorf("zipline-tray login: %s\n", explain(err))
	return ExitFailure
}
