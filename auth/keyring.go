package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// KeyringService is the service name of zipline-tray's keyring entries
// (`secret-tool search service zipline-tray` lists them on Linux).
const KeyringService = AppName

// DefaultKeyringTimeout bounds each keyring call.
const DefaultKeyringTimeout = 10 * time.Second

var (
	// ErrNoKeyring: the OS keyring cannot be used (no session bus, no
	// Secret Service, locked with nobody to unlock it...). The error's text
	// says what to install or do.
	ErrNoKeyring = errors.New("no keyring available")
	// ErrKeyringTimeout: the keyring did not answer in time, usually
	// because it is locked and its unlock prompt is waiting for the user.
	ErrKeyringTimeout = errors.New("the keyring did not answer in time")
)

// KeyringError is a keyring failure told as one plain sentence. It matches
// ErrNoKeyring or ErrKeyringTimeout (Kind) and wraps the cause.
type KeyringError struct {
	Kind    error  // ErrNoKeyring or ErrKeyringTimeout
	Message string // what happened and what to do, one sentence
	Err     error  // the cause, for logs at debug level
}

func (e *KeyringError) Error() string   { return e.Message }
func (e *KeyringError) Unwrap() []error { return []error{e.Kind, e.Err} }

const envAlternative = "or set ZIPLINE_SERVER and ZIPLINE_TOKEN in the environment"

// KeyringStore is the Store over the OS keyring (Secret Service on Linux
// and BSD, Keychain on macOS, Credential Manager on Windows).
type KeyringStore struct {
	// Service is the keyring service name (KeyringService).
	Service string
	// Timeout bounds each call (DefaultKeyringTimeout when 0).
	Timeout time.Duration
}

// NewKeyring returns the OS keyring store with the default timeout.
func NewKeyring() Store {
	return &KeyringStore{Service: KeyringService, Timeout: DefaultKeyringTimeout}
}

// keyringSem lets one keyring call run at a time: a call stuck behind an
// unlock prompt must not be joined by more calls (and more prompts).
var keyringSem = make(chan struct{}, 1)

// Get implements Store.
func (k *KeyringStore) Get(server, user string) (string, error) {
	var tok string
	err := k.do("read", "", func() error {
		var err error
		tok, err = keyring.Get(k.service(), AccountKey(server, user))
		return err
	})
	return tok, err
}

// Set implements Store.
func (k *KeyringStore) Set(server, user, token string) error {
	return k.do("save", token, func() error {
		return keyring.Set(k.service(), AccountKey(server, user), token)
	})
}

// Delete implements Store.
func (k *KeyringStore) Delete(server, user string) error {
	return k.do("delete", "", func() error {
		return keyring.Delete(k.service(), AccountKey(server, user))
	})
}

func (k *KeyringStore) service() string {
	if k.Service == "" {
		return KeyringService
	}
	return k.Service
}

func (k *KeyringStore) timeout() time.Duration {
	if k.Timeout <= 0 {
		return DefaultKeyringTimeout
	}
	return k.Timeout
}

// do runs one keyring call with a deadline and translates its failure.
func (k *KeyringStore) do(op, secret string, f func() error) error {
	if err := busCheck(); err != nil {
		return err
	}
	timer := time.NewTimer(k.timeout())
	defer timer.Stop()
	select {
	case keyringSem <- struct{}{}:
	case <-timer.C:
		return k.timeoutError(op)
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-keyringSem }()
		done <- f()
	}()
	select {
	case err := <-done:
		if err != nil {
			slog.Debug("keyring", "op", op, "err", scrub(err.Error(), secret))
		}
		return translateKeyringError(err, secret)
	case <-timer.C:
		return k.timeoutError(op)
	}
}

func (k *KeyringStore) timeoutError(op string) error {
	return &KeyringError{
		Kind: ErrKeyringTimeout,
		Message: fmt.Sprintf("The keyring did not answer within %s when asked to %s the token: it may be locked "+
			"and waiting for your password, so unlock it and try again, %s.", k.timeout(), op, envAlternative),
		Err: ErrKeyringTimeout,
	}
}

// busCheck is checkSessionBus; unit tests on go-keyring's mock skip it.
var busCheck = checkSessionBus

// checkSessionBus fails early when there is no session bus. Without this,
// godbus runs dbus-launch (when dbus-x11 is installed), which starts a
// private bus that "works" and forgets everything at exit.
func checkSessionBus() error {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return nil
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	// godbus also finds the systemd user bus under /run/user/<uid>.
	if u, err := user.Current(); err == nil {
		dir := filepath.Join("/run/user", u.Uid)
		for _, name := range []string{"bus", "dbus-session"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return nil
			}
		}
	}
	return noBusError(errors.New("DBUS_SESSION_BUS_ADDRESS is not set"))
}

// NoKeyringError is the error of a machine without a session bus, for
// tests of other packages (e.g. MemoryStore{Err: auth.NoKeyringError()}).
func NoKeyringError() error {
	return noBusError(errors.New("DBUS_SESSION_BUS_ADDRESS is not set"))
}

func noBusError(cause error) error {
	return &KeyringError{
		Kind: ErrNoKeyring,
		Message: "No keyring available: there is no D-Bus session bus. Run inside a desktop session, " +
			"or install and start a Secret Service (gnome-keyring or KeePassXC), " + envAlternative + ".",
		Err: cause,
	}
}

// translateKeyringError turns go-keyring and D-Bus failures into one
// sentence. secret is scrubbed from anything kept of the cause.
func translateKeyringError(err error, secret string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNotSignedIn
	}
	msg := err.Error()
	cause := err
	if secret != "" && strings.Contains(msg, secret) {
		cause = errors.New(scrub(msg, secret))
	}
	var dbusErr dbus.Error
	var execErr *exec.Error
	switch {
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return &KeyringError{Kind: ErrNoKeyring, Err: cause,
			Message: "The keyring refused the token as too large: set ZIPLINE_SERVER and ZIPLINE_TOKEN in the environment instead."}
	case errors.As(err, &execErr) || strings.Contains(msg, "dbus-launch") ||
		strings.Contains(msg, "couldn't determine address of session bus"):
		return noBusError(cause)
	case errors.As(err, &dbusErr) && dbusErr.Name == "org.freedesktop.DBus.Error.ServiceUnknown",
		strings.Contains(msg, "org.freedesktop.secrets was not provided"):
		return &KeyringError{Kind: ErrNoKeyring, Err: cause,
			Message: "No keyring available: the session bus has no Secret Service. Install and start gnome-keyring " +
				"(or turn on KeePassXC's Secret Service integration), " + envAlternative + "."}
	case strings.Contains(msg, "failed to unlock correct collection"),
		errors.As(err, &dbusErr) && strings.HasPrefix(dbusErr.Name, "org.freedesktop.Secret.Error.IsLocked"):
		return &KeyringError{Kind: ErrNoKeyring, Err: cause,
			Message: "The keyring is locked and could not be unlocked here: unlock your keyring (log in to the " +
				"desktop session, or open your keyring app and unlock it) and try again, " + envAlternative + "."}
	case errors.As(err, &dbusErr) && dbusErr.Name == "org.freedesktop.DBus.Error.NoReply":
		return &KeyringError{Kind: ErrKeyringTimeout, Err: cause,
			Message: "The keyring did not answer: it may be locked and waiting for your password, so unlock it and try again, " + envAlternative + "."}
	case isDialFailure(msg):
		return &KeyringError{Kind: ErrNoKeyring, Err: cause,
			Message: "No keyring available: the D-Bus session bus named in DBUS_SESSION_BUS_ADDRESS does not answer. " +
				"Run inside a desktop session, " + envAlternative + "."}
	}
	hint := "check that your keyring works"
	switch runtime.GOOS {
	case "darwin":
		hint = "check that the login keychain is unlocked and zipline-tray may use it"
	case "windows":
		hint = "check that Windows Credential Manager works"
	}
	return &KeyringError{Kind: ErrNoKeyring, Err: cause,
		Message: fmt.Sprintf("The keyring failed (%s): %s, %s.", shorten(cause.Error(), 120), hint, envAlternative)}
}

func isDialFailure(msg string) bool {
	for _, s := range []string{"connection refused", "no such file or directory", "dial unix", "EOF", "connection reset"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[token]")
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
