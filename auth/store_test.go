package auth

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// useMockKeyring swaps go-keyring's provider for its in-memory mock.
// go-keyring has no way back, so tests that need the real provider run in
// a child process (see keyring_real_test.go).
func useMockKeyring(t *testing.T, err error) *KeyringStore {
	t.Helper()
	if err != nil {
		keyring.MockInitWithError(err)
	} else {
		keyring.MockInit()
	}
	old := busCheck
	busCheck = func() error { return nil }
	t.Cleanup(func() { busCheck = old })
	return &KeyringStore{Service: KeyringService}
}

func storeRoundTrip(t *testing.T, s Store) {
	t.Helper()
	const tok = "MTcwMDAwMDAwMDAwMA==.c2VjcmV0"
	if _, err := s.Get("https://z.example", "alice"); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("Get before Set: %v, want ErrNotSignedIn", err)
	}
	if err := s.Set("https://Z.example/", "alice", tok); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("https://z.example", "bob", "other"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("z.example", "alice")
	if err != nil || got != tok {
		t.Fatalf("Get = %q, %v (server spelled differently must find the same entry)", got, err)
	}
	if got, _ := s.Get("https://z.example", "bob"); got != "other" {
		t.Fatalf("second account: %q", got)
	}
	if err := s.Delete("https://z.example", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("https://z.example", "alice"); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := s.Delete("https://z.example", "alice"); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("second Delete: %v", err)
	}
	if got, _ := s.Get("https://z.example", "bob"); got != "other" {
		t.Fatal("deleting one account removed another")
	}
}

func TestMemoryStore(t *testing.T) {
	s := NewMemoryStore()
	storeRoundTrip(t, s)
	s.Err = NoKeyringError()
	if err := s.Set("https://z.example", "a", "t"); !errors.Is(err, ErrNoKeyring) {
		t.Fatalf("MemoryStore.Err not returned: %v", err)
	}
}

func TestKeyringStoreMock(t *testing.T) {
	storeRoundTrip(t, useMockKeyring(t, nil))
}

func TestAccountKey(t *testing.T) {
	if k := AccountKey("HTTPS://Z.example:443/", "alice"); k != "https://z.example#alice" {
		t.Fatalf("AccountKey = %q", k)
	}
	if AccountKey("https://z.example", "a#b") == AccountKey("https://z.example#a", "b") {
		t.Fatal("keys collide")
	}
}

// Each failure go-keyring reports becomes one sentence that says what to do.
func TestKeyringErrorsArePlain(t *testing.T) {
	const secret = "TOKENVALUE123"
	cases := []struct {
		name string
		err  error
		kind error
		want []string
	}{
		{"no bus", &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, ErrNoKeyring,
			[]string{"no D-Bus session bus", "gnome-keyring", "KeePassXC", "ZIPLINE_TOKEN"}},
		{"no provider", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown",
			Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}}, ErrNoKeyring,
			[]string{"no Secret Service", "gnome-keyring", "KeePassXC", "ZIPLINE_SERVER"}},
		{"locked", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrNoKeyring,
			[]string{"locked", "unlock your keyring"}},
		{"dead bus", errors.New("dial unix /tmp/dbus-x: connect: connection refused"), ErrNoKeyring,
			[]string{"DBUS_SESSION_BUS_ADDRESS does not answer"}},
		{"too big", keyring.ErrSetDataTooBig, ErrNoKeyring, []string{"too large"}},
		{"other", errors.New("weird failure with " + secret), ErrNoKeyring, []string{"keyring failed", "[token]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := useMockKeyring(t, c.err)
			err := s.Set("https://z.example", "alice", secret)
			if !errors.Is(err, c.kind) {
				t.Fatalf("err %v does not match %v", err, c.kind)
			}
			var de dbus.Error
			if c.name == "no provider" && !errors.As(err, &de) || c.name != "no provider" && c.name != "other" && !errors.Is(err, c.err) {
				t.Errorf("cause not wrapped: %v", err)
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, secret) || strings.Contains(msg, "\n") || Explain(err) != msg {
				t.Errorf("not one plain, token-free sentence: %q", msg)
			}
		})
	}
	s := useMockKeyring(t, keyring.ErrNotFound)
	if _, err := s.Get("https://z.example", "alice"); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("ErrNotFound → %v, want ErrNotSignedIn", err)
	}
}

func TestStoreCallHonoursContext(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := storeCall(ctx, func() (string, error) { <-block; return "", nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("storeCall with a cancelled context: %v", err)
	}
}
