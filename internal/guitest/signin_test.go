package guitest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/traytest"
)

const menuSignOut = "Sign out"

// typeKeys sends key presses to the focused window with xdotool (XTEST,
// as a keyboard would).
func (a *appProc) typeKeys(ctx context.Context, t *testing.T, args ...string) {
	t.Helper()
	if _, err := a.xdotool(ctx, args...); err != nil {
		t.Fatal(err)
	}
}

// A new user signs in through the window with the keyboard alone: server
// address, username, a wrong password (refused, the window stays), the
// right one, Enter. The window closes, the tray menu
// offers "Sign out", and the token is in the real keyring (the CLI in the
// same session sees the account).
func TestSignInThroughWindow(t *testing.T) {
	s := newSession(t)
	srv := fakeServer(t)
	app := s.start()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	id, err := app.waitWindow(ctx, titleSignIn)
	if err != nil {
		t.Fatal(err)
	}
	app.typeKeys(ctx, t, "windowfocus", "--sync", id)
	// Tab focuses the first field (the server address), then the next.
	app.typeKeys(ctx, t, "key", "--clearmodifiers", "Tab")
	app.typeKeys(ctx, t, "type", "--delay", "10", srv.URL)
	app.typeKeys(ctx, t, "key", "Tab")
	app.typeKeys(ctx, t, "type", "--delay", "10", testUser)
	app.typeKeys(ctx, t, "key", "Tab")

	// A wrong password is refused and the window stays, keeping what was
	// typed; nothing is saved.
	app.typeKeys(ctx, t, "type", "--delay", "10", "wrong password")
	app.typeKeys(ctx, t, "key", "Return")
	if err := poll(ctx, "the refused login", func() (bool, error) {
		for _, r := range srv.Requests() {
			if r.Path == "/api/auth/login" && r.Status >= 400 {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.waitWindow(ctx, titleSignIn); err != nil {
		t.Fatalf("the sign-in window closed after a wrong password: %v", err)
	}

	// Select the wrong password and type the right one.
	app.typeKeys(ctx, t, "key", "ctrl+a")
	app.typeKeys(ctx, t, "type", "--delay", "10", testPassword)
	app.typeKeys(ctx, t, "key", "Return")

	if err := app.waitNoWindow(ctx, titleSignIn); err != nil {
		t.Fatal(err)
	}
	it, err := s.host.WaitItemPID(ctx, app.pid())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := it.WaitMenu(ctx, func(m *traytest.MenuItem) bool { return m.Find(menuSignOut) != nil }); err != nil {
		t.Fatal(err)
	}
	if out := s.run("", "whoami"); !strings.Contains(out, testUser) {
		t.Fatalf("whoami after signing in through the window:\n%s", out)
	}
}
