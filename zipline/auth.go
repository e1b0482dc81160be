package zipline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"runtime"
	"time"
)

// loginSpacing is the server's login rate limit (1 request per 2 s, ≥4.2).
const loginSpacing = 2 * time.Second

// maxLoginWait bounds how long Login waits out a 429 before retrying.
const maxLoginWait = 10 * time.Second

// Session is a cookie session from a password login. Use it only to fetch an
// API token, then end it with Logout.
type Session struct {
	c    *Client
	hc   *http.Client
	user *User
}

// userJSON is the server's user object; only the bits we keep are read.
type userJSON struct {
	ID         json.RawMessage `json:"id"`
	Username   string          `json:"username"`
	Role       string          `json:"role"`
	TOTPSecret *string         `json:"totpSecret"`
	Quota      *Quota          `json:"quota"`
}

func (u *userJSON) user() *User {
	id := jsonString(u.ID)
	if id == "" {
		id = string(u.ID)
	}
	return &User{ID: id, Username: u.Username, Role: u.Role, TOTP: u.TOTPSecret != nil && *u.TOTPSecret != "", Quota: u.Quota}
}

// Login signs in with a password. code is the TOTP code ("" on the first
// try); ErrTOTPRequired means ask for one and call Login again. The client
// waits out the server's 1-per-2 s login limit itself.
func (c *Client) Login(ctx context.Context, username, password, code string) (*Session, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: c.hc.Transport, CheckRedirect: c.checkRedirect, Jar: &originJar{base: c.base, jar: jar}}
	in := map[string]string{"username": username, "password": password}
	if code != "" {
		in["code"] = code
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	clientHdr, _ := json.Marshal(map[string]string{"client": "zipline-tray " + Version, "device": runtime.GOOS, "ua": c.opts.UserAgent})
	for attempt := 0; ; attempt++ {
		if err := c.waitLoginSlot(ctx); err != nil {
			return nil, err
		}
		s, err := c.loginOnce(ctx, hc, body, string(clientHdr), password, code)
		var ae *APIError
		if attempt == 0 && errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests && ae.RetryAfter <= maxLoginWait {
			if err := sleepCtx(ctx, max(ae.RetryAfter, 500*time.Millisecond)); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sign in to %s: %w", c.base.Host, err)
		}
		s.hc = hc
		return s, nil
	}
}

// waitLoginSlot keeps logins from this client 2 s apart, so the TOTP step
// does not run into the server's rate limit.
func (c *Client) waitLoginSlot(ctx context.Context) error {
	c.shared.mu.Lock()
	wait := time.Until(c.shared.lastLogin.Add(loginSpacing + 100*time.Millisecond))
	c.shared.mu.Unlock()
	if err := sleepCtx(ctx, wait); err != nil {
		return err
	}
	c.shared.mu.Lock()
	c.shared.lastLogin = time.Now()
	c.shared.mu.Unlock()
	return nil
}

func (c *Client) loginOnce(ctx context.Context, hc *http.Client, body []byte, clientHdr, password, code string) (*Session, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodPost, "/api/auth/login", nil, bytes.NewReader(body), false)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Zipline-Client", clientHdr)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody))
	if err != nil {
		return nil, err
	}
	a := &answer{status: resp.StatusCode, header: resp.Header, body: raw}
	m := a.json()
	if m != nil && (a.v3Error() || resp.StatusCode == 200 && m["success"] != nil && m["user"] == nil) {
		return nil, ErrV3
	}
	if resp.StatusCode != http.StatusOK {
		return nil, parseError(resp, raw, c.token, password, code)
	}
	var out struct {
		TOTP bool      `json:"totp"`
		User *userJSON `json:"user"`
	}
	if json.Unmarshal(raw, &out) != nil {
		return nil, c.badAnswer(resp, raw, password, code)
	}
	if out.User != nil {
		return &Session{c: c, user: out.User.user()}, nil
	}
	if out.TOTP {
		return nil, ErrTOTPRequired
	}
	return nil, c.badAnswer(resp, raw, password, code)
}

// User is the user the session belongs to.
func (s *Session) User() *User { return s.user }

// APIToken exchanges the session for an API token (GET /api/user/token).
// Never the "token" of the login reply: that is the raw database secret.
func (s *Session) APIToken(ctx context.Context) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := s.c.callWith(ctx, s.hc, false, http.MethodGet, "/api/user/token", nil, nil, nil, &out); err != nil {
		return "", fmt.Errorf("fetch API token: %w", err)
	}
	if out.Token == "" {
		return "", errors.New("fetch API token: the server sent an empty token")
	}
	return out.Token, nil
}

// Logout ends the cookie session (GET /api/auth/logout). API tokens stay valid.
func (s *Session) Logout(ctx context.Context) error {
	if err := s.c.callWith(ctx, s.hc, false, http.MethodGet, "/api/auth/logout", nil, nil, nil, nil); err != nil {
		return fmt.Errorf("sign out of the web session: %w", err)
	}
	return nil
}

// UserID is the id of the token's user, asked once per Client.
func (c *Client) UserID(ctx context.Context) (string, error) {
	c.me.mu.Lock()
	defer c.me.mu.Unlock()
	if c.me.id == "" {
		u, err := c.User(ctx)
		if err != nil {
			return "", err
		}
		c.me.id = u.ID
	}
	return c.me.id, nil
}

// User returns the token's user (GET /api/user).
func (c *Client) User(ctx context.Context) (*User, error) {
	var raw map[string]json.RawMessage
	if err := c.call(ctx, http.MethodGet, "/api/user", nil, nil, nil, &raw); err != nil {
		return nil, fmt.Errorf("current user: %w", err)
	}
	if raw["user"] == nil {
		if raw["administrator"] != nil {
			return nil, fmt.Errorf("current user: %w", ErrV3)
		}
		return nil, fmt.Errorf("current user: %w: no user in the answer", ErrNotZipline)
	}
	var u userJSON
	if err := json.Unmarshal(raw["user"], &u); err != nil {
		return nil, fmt.Errorf("current user: %w: %v", ErrNotZipline, err)
	}
	return u.user(), nil
}
