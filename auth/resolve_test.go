package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestResolvePrecedence(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	if err := store.Set("https://cfg.example", "alice", "tok-keyring"); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.Server, cfg.Username = "https://cfg.example", "alice"

	t.Setenv(ServerEnv, "")
	t.Setenv(TokenEnv, "")
	c, err := Resolve(ctx, Overrides{}, cfg, store)
	if err != nil || c.Token != "tok-keyring" || c.Source != SourceKeyring || c.Server != "https://cfg.example" || c.Username != "alice" {
		t.Fatalf("config+keyring: %+v %v", c, err)
	}

	t.Setenv(ServerEnv, "env.example")
	t.Setenv(TokenEnv, " tok-env\n")
	c, err = Resolve(ctx, Overrides{}, cfg, store)
	if err != nil || c.Token != "tok-env" || c.Source != SourceEnv || c.Server != "https://env.example" || c.Username != "" {
		t.Fatalf("environment: %+v %v", c, err)
	}

	c, err = Resolve(ctx, Overrides{Server: "https://flag.example", Token: "tok-flag"}, cfg, store)
	if err != nil || c.Token != "tok-flag" || c.Source != SourceFlag || c.Server != "https://flag.example" {
		t.Fatalf("flags: %+v %v", c, err)
	}

	// A flag token with the environment's server.
	c, err = Resolve(ctx, Overrides{Token: "tok-flag"}, cfg, store)
	if err != nil || c.Server != "https://env.example" || c.Source != SourceFlag {
		t.Fatalf("flag token, env server: %+v %v", c, err)
	}

	// Env token for the configured server keeps the configured user name.
	t.Setenv(ServerEnv, "")
	c, err = Resolve(ctx, Overrides{}, cfg, store)
	if err != nil || c.Server != "https://cfg.example" || c.Username != "alice" || c.Token != "tok-env" {
		t.Fatalf("env token, config server: %+v %v", c, err)
	}

	// A flag server other than the configured one has no saved token.
	t.Setenv(TokenEnv, "")
	_, err = Resolve(ctx, Overrides{Server: "https://other.example"}, cfg, store)
	if !errors.Is(err, ErrNotSignedIn) || !strings.Contains(err.Error(), "zipline-tray login") || !strings.Contains(err.Error(), "other.example") {
		t.Fatalf("other server: %v", err)
	}
}

func TestResolveNotSignedIn(t *testing.T) {
	t.Setenv(ServerEnv, "")
	t.Setenv(TokenEnv, "")
	ctx := context.Background()
	for name, cfg := range map[string]*Config{
		"nothing":   nil,
		"signedOut": {Server: "https://z.example"},
		"noToken":   {Server: "https://z.example", Username: "alice"},
	} {
		_, err := Resolve(ctx, Overrides{}, cfg, NewMemoryStore())
		if !errors.Is(err, ErrNotSignedIn) || !strings.Contains(Explain(err), "zipline-tray login") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A token without any server.
	t.Setenv(TokenEnv, "abc")
	_, err := Resolve(ctx, Overrides{}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), ServerEnv) {
		t.Fatalf("token without server: %v", err)
	}
	// A pasted Bearer prefix in the environment.
	t.Setenv(ServerEnv, "https://z.example")
	t.Setenv(TokenEnv, "Bearer abc")
	_, err = Resolve(ctx, Overrides{}, nil, nil)
	if !errors.Is(err, ErrBearerPrefix) || !strings.Contains(err.Error(), TokenEnv) {
		t.Fatalf("Bearer in env: %v", err)
	}
}

func TestResolveKeyringFailure(t *testing.T) {
	t.Setenv(ServerEnv, "")
	t.Setenv(TokenEnv, "")
	cfg := &Config{Server: "https://z.example", Username: "alice"}
	_, err := Resolve(context.Background(), Overrides{}, cfg, &MemoryStore{Err: NoKeyringError()})
	if !errors.Is(err, ErrNoKeyring) || !strings.Contains(err.Error(), "ZIPLINE_TOKEN") {
		t.Fatalf("no keyring: %v", err)
	}
	// An environment token needs no keyring at all.
	t.Setenv(TokenEnv, "tok")
	c, err := Resolve(context.Background(), Overrides{}, cfg, &MemoryStore{Err: NoKeyringError()})
	if err != nil || c.Token != "tok" {
		t.Fatalf("env token with a broken keyring: %+v %v", c, err)
	}
}

func TestCredentialsHideToken(t *testing.T) {
	const tok = "SECRET-TOKEN-42"
	c := Credentials{Server: "https://z.example", Username: "a", Token: tok, Source: SourceEnv}
	r := &Result{Server: "https://z.example", Username: "a", Token: tok}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("x", "creds", c, "result", r)
	out := fmt.Sprintf("%v %+v %#v %s %v %+v %#v", c, c, c, c, r, r, r) + buf.String()
	if strings.Contains(out, tok) {
		t.Fatalf("token printed: %s", out)
	}
}
