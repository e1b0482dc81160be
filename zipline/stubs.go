package zipline

// TEMPORARY: signatures for the packages built in parallel. The client
// helper replaces every function here with the real implementation and
// deletes this file.

import (
	"context"
	"errors"
	"net/http"
)

var errTODO = errors.New("zipline: not implemented yet")

// Client talks to one Zipline server. It is safe for concurrent use.
type Client struct {
	opts Options
	hc   *http.Client
}

// NewClient checks the options (URL, http policy, CA file) and builds a client.
func NewClient(o Options) (*Client, error) { return nil, errTODO }

// Server is the normalised base URL ("https://host[:port][/prefix]", no trailing slash).
func (c *Client) Server() string { return c.opts.Server }

// WithToken returns a copy of c that authenticates with token, sharing the transport.
func (c *Client) WithToken(token string) *Client { return c }

// Probe identifies the server: ErrNotZipline, ErrV3, or its version and limits.
func (c *Client) Probe(ctx context.Context) (*ServerInfo, error) { return nil, errTODO }

// Limits returns the server's upload limits (cached after the first call).
func (c *Client) Limits(ctx context.Context) (Limits, error) { return Limits{}, errTODO }

// Session is a cookie session from a password login. Use it only to fetch an
// API token, then end it with Logout.
type Session struct{}

// Login signs in with a password. code is the TOTP code ("" on the first
// try); ErrTOTPRequired means ask for one and call Login again. The client
// waits out the server's 1-per-2 s login limit itself.
func (c *Client) Login(ctx context.Context, username, password, code string) (*Session, error) {
	return nil, errTODO
}

// User is the user the session belongs to.
func (s *Session) User() *User { return nil }

// APIToken exchanges the session for an API token (GET /api/user/token).
func (s *Session) APIToken(ctx context.Context) (string, error) { return "", errTODO }

// Logout ends the cookie session (GET /api/auth/logout). API tokens stay valid.
func (s *Session) Logout(ctx context.Context) error { return errTODO }

// User returns the token's user (GET /api/user).
func (c *Client) User(ctx context.Context) (*User, error) { return nil, errTODO }

// ServerVersion asks /api/version; it often fails (non-admins, air-gapped) — use opportunistically.
func (c *Client) ServerVersion(ctx context.Context) (string, error) { return "", errTODO }

// Upload sends one file, chunked when the server's limits say so, and returns
// once the server has the whole file (for chunked uploads it waits for COMPLETE).
func (c *Client) Upload(ctx context.Context, u Upload, opts UploadOptions, p Progress) (*UploadedFile, error) {
	return nil, errTODO
}

// UploadMany sends small files in one multipart request.
func (c *Client) UploadMany(ctx context.Context, us []Upload, opts UploadOptions, p Progress) ([]UploadedFile, error) {
	return nil, errTODO
}

// WaitComplete polls /api/user/files/incomplete until the file is COMPLETE or FAILED.
func (c *Client) WaitComplete(ctx context.Context, fileID string) error { return errTODO }

// Incomplete lists chunked uploads the server is still assembling.
func (c *Client) Incomplete(ctx context.Context) ([]IncompleteFile, error) { return nil, errTODO }

// Recent lists the newest files (take 1..100).
func (c *Client) Recent(ctx context.Context, take int) ([]File, error) { return nil, errTODO }

// File looks one file up by id or name; ErrNotFound if it is gone.
func (c *Client) File(ctx context.Context, idOrName string) (*File, error) { return nil, errTODO }

// DeleteFile deletes a file on the server.
func (c *Client) DeleteFile(ctx context.Context, idOrName string) (*File, error) { return nil, errTODO }

// Folders lists the user's folders.
func (c *Client) Folders(ctx context.Context) ([]Folder, error) { return nil, errTODO }

// Shorten creates a short URL.
func (c *Client) Shorten(ctx context.Context, destination string, o ShortenOptions) (*ShortURL, error) {
	return nil, errTODO
}

// FileUpload describes a file on disk for Upload (name, size, content type).
func FileUpload(path string) (Upload, error) { return Upload{}, errTODO }

// ParseSize parses a size in the npm "bytes" format the server uses ("100mb", base 1024).
func ParseSize(s string) (int64, error) { return 0, errTODO }
