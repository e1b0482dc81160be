package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// Environment variables that supply credentials without a keyring.
const (
	ServerEnv = "ZIPLINE_SERVER"
	TokenEnv  = "ZIPLINE_TOKEN"
)

// Where a token came from (Credentials.Source).
const (
	SourceFlag    = "flag"
	SourceEnv     = "environment"
	SourceKeyring = "keyring"
)

// Overrides are credentials given on the command line; they beat the
// environment, which beats the settings file and keyring.
type Overrides struct {
	Server string
	Token  string
}

// Credentials are what a client needs to act as the user.
type Credentials struct {
	Server   string // normalised base URL
	Username string // "" when the token came from a flag or the environment
	Token    string
	Source   string // SourceFlag, SourceEnv or SourceKeyring
}

// String hides the token, so a stray %v cannot log it.
func (c Credentials) String() string {
	return fmt.Sprintf("{%s %s token:%s from %s}", c.Server, c.Username, redact(c.Token), c.Source)
}

// GoString hides the token from %#v too.
func (c Credentials) GoString() string { return c.String() }

// LogValue hides the token from log/slog.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("server", c.Server), slog.String("user", c.Username),
		slog.String("source", c.Source))
}

func redact(tok string) string {
	if tok == "" {
		return "none"
	}
	return "set"
}

// Resolve finds the credentials to use: the server from o.Server, else
// $ZIPLINE_SERVER, else cfg.Server; the token from o.Token, else
// $ZIPLINE_TOKEN, else the keyring entry of the configured account.
// A cfg of nil means defaults; store may be nil when no keyring is wanted.
func Resolve(ctx context.Context, o Overrides, cfg *Config, store Store) (Credentials, error) {
	if cfg == nil {
		cfg = Defaults()
	}
	rawServer, serverFrom := firstSet(o.Server, "--server", os.Getenv(ServerEnv), ServerEnv, cfg.Server, "settings")
	var c Credentials
	if rawServer != "" {
		s, err := NormalizeServer(rawServer)
		if err != nil {
			return Credentials{}, fmt.Errorf("server from %s: %w", serverFrom, err)
		}
		c.Server = s
	}
	cfgServer, _ := NormalizeServer(cfg.Server)

	tok, tokFrom := o.Token, SourceFlag
	if strings.TrimSpace(tok) == "" {
		tok, tokFrom = os.Getenv(TokenEnv), SourceEnv
	}
	if strings.TrimSpace(tok) != "" {
		t, err := cleanToken(tok)
		if err != nil {
			where := "--token"
			if tokFrom == SourceEnv {
				where = TokenEnv
			}
			return Credentials{}, fmt.Errorf("%s: %w", where, err)
		}
		if c.Server == "" {
			return Credentials{}, fmt.Errorf("a token was given in %s but no server: set %s or --server", tokenWhere(tokFrom), ServerEnv)
		}
		c.Token, c.Source = t, tokFrom
		if c.Server == cfgServer {
			c.Username = cfg.Username
		}
		return c, nil
	}

	if c.Server == "" {
		return Credentials{}, ErrNotSignedIn
	}
	user := ""
	if c.Server == cfgServer {
		user = cfg.Username
	}
	if user == "" || store == nil {
		return Credentials{}, notSignedInAt(c.Server)
	}
	t, err := storeCall(ctx, func() (string, error) { return store.Get(c.Server, user) })
	if errors.Is(err, ErrNotSignedIn) {
		return Credentials{}, notSignedInAt(c.Server)
	}
	if err != nil {
		return Credentials{}, err
	}
	c.Username, c.Token, c.Source = user, t, SourceKeyring
	return c, nil
}

func tokenWhere(src string) string {
	if src == SourceEnv {
		return TokenEnv
	}
	return "--token"
}

func notSignedInAt(server string) error { return &notSignedInError{server} }

type notSignedInError struct{ server string }

func (e *notSignedInError) Error() string {
	return fmt.Sprintf("not signed in to %s: run `zipline-tray login` (or set %s and %s)", e.server, ServerEnv, TokenEnv)
}

func (e *notSignedInError) Is(target error) bool { return target == ErrNotSignedIn }

func firstSet(kv ...string) (value, from string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if strings.TrimSpace(kv[i]) != "" {
			return kv[i], kv[i+1]
		}
	}
	return "", ""
}

// NewClient builds a client for the credentials with the connection
// settings of cfg (CA file, extra headers, http permission). For sign-in,
// pass Credentials with only Server set. A nil cfg means defaults.
func NewClient(creds Credentials, cfg *Config) (*zipline.Client, error) {
	if cfg == nil {
		cfg = Defaults()
	}
	var headers map[string]string
	if len(cfg.Headers) > 0 {
		headers = make(map[string]string, len(cfg.Headers))
		for k, v := range cfg.Headers {
			headers[k] = v
		}
	}
	c, err := zipline.NewClient(zipline.Options{
		Server:    creds.Server,
		Token:     creds.Token,
		CAFile:    cfg.CAFile,
		Headers:   headers,
		AllowHTTP: cfg.AllowHTTP,
	})
	if err != nil {
		return nil, plain(err)
	}
	return c, nil
}
