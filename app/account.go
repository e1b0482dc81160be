package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline"
)

// AuthAccount is the real Account: auth's sign-in flows, the settings file
// (config.json) and the keyring. Its methods block (network, keyring) and
// are called off the UI goroutine, except Current.
type AuthAccount struct {
	configPath string
	store      auth.Store

	mu           sync.Mutex
	server, user string

	// The last client, kept while the sign-in and the connection settings
	// stay the same: its connections are reused, and the account id is
	// asked once (zipline.Client.UserID), not once per upload.
	cmu    sync.Mutex
	client *zipline.Client
	key    clientKey
}

// clientKey is what a client is made of. The CA file counts by its
// contents: a renewed certificate saved under the same name must be seen.
type clientKey struct {
	server, token, caFile, caPEM, headers string
	allowHTTP                             bool
}

// NewAuthAccount reads the saved account from the settings file at
// configPath; store keeps the tokens.
func NewAuthAccount(configPath string, store auth.Store) *AuthAccount {
	a := &AuthAccount{configPath: configPath, store: store}
	if cfg, err := auth.LoadConfig(configPath); err == nil {
		a.server, a.user = cfg.Server, cfg.Username
	}
	return a
}

// Current implements Account.
func (a *AuthAccount) Current() (server, user string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.server, a.user
}

func (a *AuthAccount) set(server, user string) {
	a.mu.Lock()
	a.server, a.user = server, user
	a.mu.Unlock()
}

// Client returns a client with the saved credentials (for the upload
// engine too: it satisfies uploader.Credentials).
func (a *AuthAccount) Client(ctx context.Context) (*zipline.Client, error) {
	cfg, err := auth.LoadConfig(a.configPath)
	if err != nil {
		return nil, err
	}
	creds, err := auth.Resolve(ctx, auth.Overrides{}, cfg, a.store)
	if errors.Is(err, auth.ErrNotSignedIn) {
		// No token: for the engine, the same as a rejected one.
		return nil, fmt.Errorf("%w: %w", zipline.ErrUnauthorized, err)
	}
	if err != nil {
		return nil, err
	}
	key := clientKey{server: creds.Server, token: creds.Token, caFile: cfg.CAFile, allowHTTP: cfg.AllowHTTP}
	if cfg.CAFile != "" {
		pem, _ := os.ReadFile(cfg.CAFile) // unreadable: NewClient says why
		key.caPEM = string(pem)
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Headers)) {
		key.headers += k + ":" + cfg.Headers[k] + "\n"
	}
	a.cmu.Lock()
	defer a.cmu.Unlock()
	if a.client != nil && a.key == key {
		return a.client, nil
	}
	c, err := auth.NewClient(creds, cfg)
	if err != nil {
		return nil, err
	}
	a.client, a.key = c, key
	return c, nil
}

// Check implements Account.
func (a *AuthAccount) Check(ctx context.Context) (string, error) {
	c, err := a.Client(ctx)
	if err != nil {
		return "", err
	}
	u, err := auth.Verify(ctx, c)
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// Probe implements Account. It sends no credentials, so plain http is fine.
func (a *AuthAccount) Probe(ctx context.Context, server string) (string, error) {
	cfg, err := auth.LoadConfig(a.configPath)
	if err != nil {
		cfg = auth.Defaults()
	}
	c, err := zipline.NewClient(zipline.Options{Server: server, CAFile: cfg.CAFile, Headers: cfg.Headers, AllowHTTP: true})
	if err != nil {
		return "", err
	}
	info, err := c.Probe(ctx)
	if err != nil {
		return "", err
	}
	return info.Version, nil
}

// signInClient builds an anonymous client for server with the saved
// connection settings.
func (a *AuthAccount) signInClient(server string, allowHTTP bool) (*auth.Config, *zipline.Client, error) {
	cfg, err := auth.LoadConfig(a.configPath)
	if err != nil {
		return nil, nil, err
	}
	norm, err := auth.NormalizeServer(server)
	if err != nil {
		return nil, nil, err
	}
	conn := cloneConfig(cfg)
	conn.AllowHTTP = cfg.AllowHTTP || allowHTTP
	c, err := auth.NewClient(auth.Credentials{Server: norm}, conn)
	return cfg, c, err
}

func (a *AuthAccount) save(cfg *auth.Config, r *auth.Result, allowHTTP bool) (string, error) {
	if allowHTTP {
		cfg.AllowHTTP = true
	}
	if err := auth.Save(cfg, a.configPath, a.store, r); err != nil {
		return "", err
	}
	a.set(cfg.Server, cfg.Username)
	return r.Username, nil
}

// SignInPassword implements Account.
func (a *AuthAccount) SignInPassword(ctx context.Context, server, user, password, code string, allowHTTP bool) (string, error) {
	cfg, c, err := a.signInClient(server, allowHTTP)
	if err != nil {
		return "", err
	}
	r, err := auth.SignInPassword(ctx, c, user, password, code)
	if err != nil {
		return "", err
	}
	return a.save(cfg, r, allowHTTP)
}

// SignInToken implements Account.
func (a *AuthAccount) SignInToken(ctx context.Context, server, token string, allowHTTP bool) (string, error) {
	cfg, c, err := a.signInClient(server, allowHTTP)
	if err != nil {
		return "", err
	}
	r, err := auth.SignInToken(ctx, c, token)
	if err != nil {
		return "", err
	}
	return a.save(cfg, r, allowHTTP)
}

// SignOut implements Account.
func (a *AuthAccount) SignOut(ctx context.Context) error {
	cfg, err := auth.LoadConfig(a.configPath)
	if err != nil {
		return err
	}
	if err := auth.SignOut(cfg, a.configPath, a.store); err != nil {
		return err
	}
	a.set(cfg.Server, "")
	return nil
}

// Folders implements Account.
func (a *AuthAccount) Folders(ctx context.Context) ([]Folder, error) {
	c, err := a.Client(ctx)
	if err != nil {
		return nil, err
	}
	fs, err := c.Folders(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Folder, len(fs))
	for i, f := range fs {
		out[i] = Folder{ID: f.ID, Name: f.Name}
	}
	return out, nil
}

// Domains implements Account.
func (a *AuthAccount) Domains(ctx context.Context) ([]string, error) {
	c, err := a.Client(ctx)
	if err != nil {
		return nil, err
	}
	l, err := c.Limits(ctx)
	if err != nil {
		return nil, err
	}
	return l.Domains, nil
}

// Explain implements Account.
func (a *AuthAccount) Explain(err error) string { return auth.Explain(err) }

// ConfigStore is the SettingsStore of config.json. Save keeps the account
// fields and anything the settings window does not edit as they are on
// disk, so a sign-in made meanwhile (CLI, another window) survives.
type ConfigStore struct{ Path string }

// Load implements SettingsStore.
func (s ConfigStore) Load() (*auth.Config, error) { return auth.LoadConfig(s.Path) }

// Save implements SettingsStore.
func (s ConfigStore) Save(c *auth.Config) error {
	_, err := auth.UpdateConfig(s.Path, func(disk *auth.Config) error {
		disk.CAFile, disk.Headers = c.CAFile, c.Headers
		disk.Upload = c.Upload
		disk.Watch.Folders, disk.Watch.Include, disk.Watch.CatchUp = c.Watch.Folders, c.Watch.Include, c.Watch.CatchUp
		disk.Links = c.Links
		disk.Notify = c.Notify
		return nil
	})
	return err
}
