package ziplinetest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Role is a Zipline user role.
type Role string

const (
	RoleUser       Role = "USER"
	RoleAdmin      Role = "ADMIN"
	RoleSuperAdmin Role = "SUPERADMIN"
)

// User is a handle on a user of the fake server.
type User struct {
	s        *Server
	ID       string
	Username string
	Role     Role
}

// Quota is a per-user upload quota (413 E5002 when exceeded). Zero fields
// mean no limit.
type Quota struct {
	MaxFiles int
	MaxBytes int64
	MaxURLs  int
}

type userRec struct {
	id, username, password string
	role                   Role
	secret                 string // User.token: the raw DB secret
	totpSecret             string
	quota                  *Quota
	createdAt, updatedAt   time.Time
}

type session struct {
	id, cookie         string
	user               *userRec
	createdAt          time.Time
	ua, client, device string
	ended              bool
}

// AddUser creates a user (an empty password makes an OAuth-only account that
// cannot use password login) and returns its handle. The first user also
// ends first setup. It panics if the name is taken.
func (s *Server) AddUser(username, password string, role Role) *User {
	if role == "" {
		role = RoleUser
	}
	now := time.Now()
	u := &userRec{id: newID(), username: username, password: password, role: role,
		secret: newSecret(), createdAt: now, updatedAt: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.byName[username]; dup {
		panic(fmt.Sprintf("ziplinetest: user %q already exists", username))
	}
	s.users[u.id] = u
	s.byName[username] = u
	return &User{s: s, ID: u.id, Username: username, Role: role}
}

// User returns the handle of an existing user, or nil.
func (s *Server) User(username string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName[username]
	if u == nil {
		return nil
	}
	return &User{s: s, ID: u.id, Username: u.username, Role: u.role}
}

// Token issues a fresh, valid API token for the user, like
// GET /api/user/token: every call returns a different string.
func (u *User) Token() string {
	t, err := u.s.IssueToken(u.Username)
	if err != nil {
		panic(err)
	}
	return t
}

// RawSecret is the user's DB secret: what login's user.token holds (issue
// #725). It is NOT a valid API token.
func (u *User) RawSecret() string {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	return u.s.byName[u.Username].secret
}

// IssueToken issues a fresh, valid API token for username.
func (s *Server) IssueToken(username string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName[username]
	if u == nil {
		return "", fmt.Errorf("ziplinetest: no user %q", username)
	}
	return s.encryptToken(u.secret), nil
}

// ResetToken replaces the user's secret, so every token issued so far stops
// working (like PATCH /api/user/token).
func (s *Server) ResetToken(username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName[username]
	if u == nil {
		return fmt.Errorf("ziplinetest: no user %q", username)
	}
	u.secret = newSecret()
	u.updatedAt = time.Now()
	return nil
}

// SetCoreSecret changes CORE_SECRET: every token of every user dies.
func (s *Server) SetCoreSecret(secret string) {
	s.mu.Lock()
	s.key = secretKey(secret)
	s.mu.Unlock()
}

// SetPassword changes a user's password ("" = OAuth-only). Tokens survive,
// as on the real server.
func (s *Server) SetPassword(username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName[username]
	if u == nil {
		return fmt.Errorf("ziplinetest: no user %q", username)
	}
	u.password = password
	return nil
}

// SetQuota sets a user's quota (nil removes it).
func (s *Server) SetQuota(username string, q *Quota) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName[username]
	if u == nil {
		return fmt.Errorf("ziplinetest: no user %q", username)
	}
	u.quota = q
	return nil
}

// DeleteUser removes a user; its tokens and sessions stop working.
func (s *Server) DeleteUser(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.byName[username]; u != nil {
		delete(s.byName, username)
		delete(s.users, u.id)
	}
}

// Sessions counts the user's live login sessions.
func (s *Server) Sessions(username string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, se := range s.sessions {
		if !se.ended && se.user.username == username {
			n++
		}
	}
	return n
}

// TOTP is a user's time-based one-time password secret.
type TOTP struct {
	// Secret is the base32 secret, as Zipline stores it in totpSecret.
	Secret string
}

// Code is the current 6-digit code.
func (t TOTP) Code() string { return TOTPCode(t.Secret, time.Now()) }

// CodeAt is the code for time at.
func (t TOTP) CodeAt(at time.Time) string { return TOTPCode(t.Secret, at) }

// EnableTOTP turns on two-factor login for username and returns its secret.
func (s *Server) EnableTOTP(username string) (TOTP, error) {
	sec := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(randBytes(16))
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName[username]
	if u == nil {
		return TOTP{}, fmt.Errorf("ziplinetest: no user %q", username)
	}
	u.totpSecret = sec
	return TOTP{Secret: sec}, nil
}

// TOTPCode computes the RFC 6238 code (HMAC-SHA-1, 30 s step, 6 digits) of
// a base32 secret at time t. It returns "" for an undecodable secret.
func TOTPCode(secret string, t time.Time) string {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		return ""
	}
	return hotp(key, uint64(t.Unix()/30))
}

func hotp(key []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

// checkTOTP accepts the current code and its neighbours (±30 s), so a code
// computed just before a step boundary still works.
func checkTOTP(secret, code string) bool {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		return false
	}
	now := uint64(time.Now().Unix() / 30)
	for _, c := range []uint64{now - 1, now, now + 1} {
		if hmac.Equal([]byte(hotp(key, c)), []byte(code)) {
			return true
		}
	}
	return false
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// newSecret builds a User.token: base64(ms timestamp) "." base64(32 alnum).
func newSecret() string {
	return b64(strconv.FormatInt(time.Now().UnixMilli(), 10)) + "." + b64(randString(32, alnum))
}

func secretKey(coreSecret string) []byte {
	k := sha256.Sum256([]byte(coreSecret))
	return k[:]
}

// encryptToken wraps a DB secret as the API token the server hands out:
// AES-256-GCM from 4.4.1, AES-256-CBC before (commit cdcaa926). Called with
// s.mu held.
func (s *Server) encryptToken(secret string) string {
	block, err := aes.NewCipher(s.key)
	if err != nil {
		panic(err)
	}
	var inner string
	if s.ver.atLeast(4, 4, 1) {
		gcm, _ := cipher.NewGCM(block)
		iv := randBytes(12)
		sealed := gcm.Seal(nil, iv, []byte(secret), nil)
		ct, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
		inner = hex.EncodeToString(iv) + "." + hex.EncodeToString(ct) + "." + hex.EncodeToString(tag)
	} else {
		iv := randBytes(16)
		pad := 16 - len(secret)%16
		plain := append([]byte(secret), make([]byte, pad)...)
		for i := len(secret); i < len(plain); i++ {
			plain[i] = byte(pad)
		}
		ct := make([]byte, len(plain))
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, plain)
		inner = hex.EncodeToString(iv) + "." + hex.EncodeToString(ct)
	}
	return b64(strconv.FormatInt(time.Now().UnixMilli(), 10)) + "." + b64(inner)
}

// tokenErr is why a token was rejected; the ≤4.4 wording differs by cause.
type tokenErr string

const (
	tokDecrypt tokenErr = "could not decrypt token"
	tokInvalid tokenErr = "invalid token"
)

// userByToken checks an Authorization value the way the server does. Called
// with s.mu held.
func (s *Server) userByToken(tok string) (*userRec, tokenErr) {
	parts := strings.Split(tok, ".")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return nil, tokDecrypt
	}
	date, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, tokInvalid
	}
	if _, err := strconv.ParseInt(string(date), 10, 64); err != nil {
		return nil, tokInvalid
	}
	innerB, err := base64.StdEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, tokDecrypt
	}
	secret, ok := s.decrypt(string(innerB))
	if !ok {
		return nil, tokDecrypt
	}
	for _, u := range s.users {
		if u.secret == secret {
			return u, ""
		}
	}
	return nil, tokInvalid
}

func (s *Server) decrypt(inner string) (string, bool) {
	block, err := aes.NewCipher(s.key)
	if err != nil {
		return "", false
	}
	f := strings.Split(inner, ".")
	dec := func(h string) []byte {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil
		}
		return b
	}
	if s.ver.atLeast(4, 4, 1) {
		if len(f) != 3 {
			return "", false
		}
		iv, ct, tag := dec(f[0]), dec(f[1]), dec(f[2])
		if len(iv) != 12 || len(tag) != 16 || ct == nil {
			return "", false
		}
		gcm, _ := cipher.NewGCM(block)
		plain, err := gcm.Open(nil, iv, append(ct, tag...), nil)
		if err != nil {
			return "", false
		}
		return string(plain), true
	}
	if len(f) != 2 {
		return "", false
	}
	iv, ct := dec(f[0]), dec(f[1])
	if len(iv) != 16 || len(ct) == 0 || len(ct)%16 != 0 {
		return "", false
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > 16 {
		return "", false
	}
	return string(plain[:len(plain)-pad]), true
}
