package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Store keeps API tokens, one per server and user.
type Store interface {
	// Get returns the token, or an error matching ErrNotSignedIn when there
	// is none.
	Get(server, user string) (string, error)
	Set(server, user, token string) error
	// Delete removes the token; ErrNotSignedIn when there was none.
	Delete(server, user string) error
}

// ErrNotSignedIn: no token saved for this account, or no account at all.
var ErrNotSignedIn = errors.New("not signed in: run `zipline-tray login` (or set ZIPLINE_SERVER and ZIPLINE_TOKEN)")

// AccountKey is the keyring account name of a user on a server:
// "<normalised server>#<user>". A normalised URL has no '#', so the key
// splits unambiguously, and each server+user pair gets its own entry.
func AccountKey(server, user string) string {
	if s, err := NormalizeServer(server); err == nil {
		server = s
	} else {
		server = strings.ReplaceAll(server, "#", "%23")
	}
	return server + "#" + user
}

// MemoryStore is a Store in memory, for tests of packages that need one.
// The zero value is ready to use.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]string
	// Err, when set, is returned by every call (e.g. an ErrNoKeyring
	// from NoKeyringError to act out a machine without a keyring).
	Err error
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Get implements Store.
func (s *MemoryStore) Get(server, user string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return "", s.Err
	}
	t, ok := s.m[AccountKey(server, user)]
	if !ok {
		return "", ErrNotSignedIn
	}
	return t, nil
}

// Set implements Store.
func (s *MemoryStore) Set(server, user, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[AccountKey(server, user)] = token
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(server, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	k := AccountKey(server, user)
	if _, ok := s.m[k]; !ok {
		return ErrNotSignedIn
	}
	delete(s.m, k)
	return nil
}

// Len is the number of saved tokens.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// storeCall runs f off the caller's goroutine so ctx can end the wait: a
// Store may block (a keyring waiting for the user to unlock it).
func storeCall[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("keyring: %w", ctx.Err())
	}
}
