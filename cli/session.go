package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline"
)

// session is a signed-in client for one command.
type session struct {
	client *zipline.Client
	creds  auth.Credentials
	server string
	config *auth.Config
}

type signInOptions struct {
	server string // --server
}

// paths returns env.Paths, or the default folders (ZIPLINE_TRAY_HOME...).
func (env *Env) paths() (auth.Paths, error) {
	if env.Paths.ConfigDir != "" {
		return env.Paths, env.Paths.Ensure()
	}
	p, err := auth.DefaultPaths()
	if err != nil {
		return auth.Paths{}, err
	}
	env.Paths = p
	return p, nil
}

// config returns env.Config, loading it from the settings file once.
func (env *Env) config() (*auth.Config, error) {
	if env.Config != nil {
		return env.Config, nil
	}
	p, err := env.paths()
	if err != nil {
		return nil, err
	}
	c, err := auth.LoadConfig(p.ConfigFile())
	if err != nil {
		return nil, err
	}
	env.Config = c
	return c, nil
}

func (env *Env) store() auth.Store {
	if env.Store == nil {
		env.Store = auth.NewKeyring()
	}
	return env.Store
}

// signIn finds the credentials (--server > ZIPLINE_SERVER/ZIPLINE_TOKEN >
// the saved sign-in) and builds a client. On failure it prints why and
// returns nil and the exit code.
func (env *Env) signIn(ctx context.Context, o signInOptions) (*session, int) {
	cfg, err := env.config()
	if err != nil {
		env.errorf("zipline-tray: %v\n", err)
		return nil, ExitFailure
	}
	ov := auth.Overrides{Server: o.server, Token: env.Getenv(auth.TokenEnv)}
	if ov.Server == "" {
		ov.Server = env.Getenv(auth.ServerEnv)
	}
	creds, err := auth.Resolve(ctx, ov, cfg, env.store())
	if err != nil {
		if errors.Is(err, auth.ErrNotSignedIn) {
			env.errorf("zipline-tray: %v\n", err)
			return nil, ExitSignIn
		}
		env.errorf("zipline-tray: %s\n", explain(err))
		return nil, ExitFailure
	}
	if ov.Token != "" && creds.Source == auth.SourceFlag {
		creds.Source = auth.SourceEnv
	}
	env.secrets = append(env.secrets, creds.Token)
	c, err := auth.NewClient(creds, cfg)
	if err != nil {
		env.errorf("zipline-tray: %s\n", explain(err))
		return nil, ExitFailure
	}
	return &session{client: c, creds: creds, server: creds.Server, config: cfg}, ExitOK
}

// notZipline probes the server after an unclear failure: when the address
// is not a Zipline v4 server at all, that is the real problem to report.
func notZipline(ctx context.Context, c *zipline.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.Probe(ctx)
	if errors.Is(err, zipline.ErrNotZipline) || errors.Is(err, zipline.ErrV3) {
		return err
	}
	return nil
}

// failure prints "zipline-tray: what: reason" for err and returns its exit
// code: ExitSignIn for a rejected token, else ExitFailure.
func (env *Env) failure(err error, what string) int {
	if what != "" {
		what += ": "
	}
	if errors.Is(err, zipline.ErrUnauthorized) {
		env.errorf("zipline-tray: %sthe server rejected the token: sign in again with\n  zipline-tray login\n", what)
		return ExitSignIn
	}
	env.errorf("zipline-tray: %s%s\n", what, explain(err))
	return ExitFailure
}

// explain is the plain-words text of err, with the command-line flags
// that fix it where there are some.
func explain(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var pe plainError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pe):
		return string(pe)
	case errors.Is(err, zipline.ErrInsecureHTTP):
		return "The address is plain http:// to another machine, so the password and token would cross the network unencrypted: use https://, or, if you trust every network in between, allow it with zipline-tray login --allow-http (or \"allowHTTP\": true in config.json)."
	case errors.As(err, &unknownCA):
		return "The server's TLS certificate is signed by an unknown authority: if the server uses a private or self-signed CA, sign in with --ca-file CA.pem."
	}
	return auth.Explain(err)
}
