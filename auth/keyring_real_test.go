package auth

// Tests that need go-keyring's real provider. go-keyring's mock replaces
// the provider for the whole process, and godbus caches the session bus
// connection, so each keyring call here runs in a child process (this test
// binary re-executed) with exactly the environment under test.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

const helperEnv = "ZT_KEYRING_HELPER"

// helperResult is what the child reports on one line of stdout.
type helperResult struct {
	Token       string `json:"token,omitempty"`
	Err         string `json:"err,omitempty"`
	Explained   string `json:"explained,omitempty"`
	NoKeyring   bool   `json:"noKeyring,omitempty"`
	Timeout     bool   `json:"timeout,omitempty"`
	NotSignedIn bool   `json:"notSignedIn,omitempty"`
	Elapsed     string `json:"elapsed"`
}

const resultPrefix = "ZTRESULT:"

// TestKeyringHelperProcess is the child: it does one keyring call and
// prints the outcome. It does nothing in a normal test run.
func TestKeyringHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	timeout, _ := time.ParseDuration(os.Getenv("ZT_TIMEOUT"))
	s := &KeyringStore{Service: KeyringService, Timeout: timeout}
	server, user := os.Getenv("ZT_SERVER"), os.Getenv("ZT_USER")
	var r helperResult
	var err error
	start := time.Now()
	switch op := os.Getenv("ZT_OP"); op {
	case "set":
		err = s.Set(server, user, os.Getenv("ZT_TOKEN"))
	case "get":
		r.Token, err = s.Get(server, user)
	case "delete":
		err = s.Delete(server, user)
	case "get3":
		// Three callers at once: each must get its answer by its deadline,
		// even while the first is stuck.
		errs := make(chan error, 3)
		for range 3 {
			go func() {
				_, err := s.Get(server, user)
				errs <- err
			}()
		}
		err = ErrKeyringTimeout
		for range 3 {
			if e := <-errs; !errors.Is(e, ErrKeyringTimeout) {
				err = fmt.Errorf("a concurrent call did not time out: %v", e)
			}
		}
	default:
		t.Fatalf("unknown op %q", op)
	}
	r.Elapsed = time.Since(start).String()
	if err != nil {
		r.Err, r.Explained = err.Error(), Explain(err)
		r.NoKeyring = errors.Is(err, ErrNoKeyring)
		r.Timeout = errors.Is(err, ErrKeyringTimeout)
		r.NotSignedIn = errors.Is(err, ErrNotSignedIn)
	}
	b, _ := json.Marshal(r)
	fmt.Printf("\n%s%s\n", resultPrefix, b)
}

// runKeyringChild runs one keyring call in a child process with env
// (plus PATH and HOME only) and fails the test if the child does not
// finish before the context deadline.
func runKeyringChild(t *testing.T, env map[string]string, op, server, user, token string, timeout time.Duration) helperResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKeyringHelperProcess$", "-test.count=1")
	cmd.Env = []string{
		helperEnv + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"ZT_OP=" + op, "ZT_SERVER=" + server, "ZT_USER=" + user, "ZT_TOKEN=" + token,
		"ZT_TIMEOUT=" + timeout.String(),
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s: the keyring call hung past its %s deadline; output:\n%s", op, timeout, out)
	}
	if err != nil {
		t.Fatalf("%s: child failed: %v\n%s", op, err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), resultPrefix); ok {
			var r helperResult
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), "goroutine ") || strings.Contains(string(out), "panic") {
				t.Fatalf("%s: child printed a stack trace:\n%s", op, out)
			}
			return r
		}
	}
	t.Fatalf("%s: no result from child:\n%s", op, out)
	return helperResult{}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// secretToolEntries lists the zipline-tray accounts secret-tool finds.
func secretToolEntries(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Attributes go to stderr, the secret to stdout: keep stderr only.
	cmd := exec.CommandContext(ctx, "secret-tool", "search", "--all", "service", KeyringService)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil && stderr.Len() > 0 && !strings.Contains(stderr.String(), "attribute.") {
		t.Fatalf("secret-tool search: %v: %s", err, stderr.String())
	}
	return stderr.String()
}

// TestKeyringRealSecretService round-trips a token through a real Secret
// Service (gnome-keyring under scripts/testenv.sh) and checks with
// secret-tool that the entry really is in the keyring, then really gone.
func TestKeyringRealSecretService(t *testing.T) {
	if os.Getenv("ZIPLINE_TRAY_REAL_KEYRING") != "1" {
		t.Skip("needs a real Secret Service: run under scripts/testenv.sh (sets ZIPLINE_TRAY_REAL_KEYRING=1)")
	}
	// From here on a broken keyring is a failure, not a skip.
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Fatal("secret-tool not found: install libsecret-tools (scripts/deps.sh does)")
	}
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if bus == "" {
		t.Fatal("ZIPLINE_TRAY_REAL_KEYRING=1 but DBUS_SESSION_BUS_ADDRESS is empty")
	}
	env := map[string]string{"DBUS_SESSION_BUS_ADDRESS": bus}
	server := "https://keyring-test-" + randomHex(t, 4) + ".invalid"
	user := "tester"
	key := AccountKey(server, user)
	token := randomHex(t, 16) + "." + randomHex(t, 32)
	const timeout = 20 * time.Second

	if r := runKeyringChild(t, env, "get", server, user, "", timeout); !r.NotSignedIn {
		t.Fatalf("get before set: %+v, want not signed in", r)
	}
	if r := runKeyringChild(t, env, "set", server, user, token, timeout); r.Err != "" {
		t.Fatalf("set: %s", r.Err)
	}
	if found := secretToolEntries(t); !strings.Contains(found, "attribute.username = "+key) {
		t.Fatalf("secret-tool does not find %q after Set:\n%s", key, found)
	}
	r := runKeyringChild(t, env, "get", server, user, "", timeout)
	if r.Err != "" || r.Token != token {
		t.Fatalf("get: err %q, token matches: %v", r.Err, r.Token == token)
	}
	t.Logf("one Get from gnome-keyring took %s", r.Elapsed)
	// Set again replaces, it does not add a second entry.
	token2 := randomHex(t, 16) + "." + randomHex(t, 32)
	if r := runKeyringChild(t, env, "set", server, user, token2, timeout); r.Err != "" {
		t.Fatalf("second set: %s", r.Err)
	}
	if n := strings.Count(secretToolEntries(t), "attribute.username = "+key+"\n"); n != 1 {
		t.Fatalf("%d entries for one account after two Sets", n)
	}
	if r := runKeyringChild(t, env, "get", server, user, "", timeout); r.Token != token2 {
		t.Fatalf("get after replace: err %q", r.Err)
	}
	if r := runKeyringChild(t, env, "delete", server, user, "", timeout); r.Err != "" {
		t.Fatalf("delete: %s", r.Err)
	}
	if found := secretToolEntries(t); strings.Contains(found, key) {
		t.Fatalf("secret-tool still finds %q after Delete:\n%s", key, found)
	}
	if r := runKeyringChild(t, env, "get", server, user, "", timeout); !r.NotSignedIn {
		t.Fatalf("get after delete: %+v", r)
	}
}

// noBusEnv is an environment with no session bus at all. godbus would also
// find a systemd user bus under /run/user/<uid>; that cannot be hidden.
func noBusEnv(t *testing.T) map[string]string {
	t.Helper()
	if u, err := user.Current(); err == nil {
		for _, name := range []string{"bus", "dbus-session"} {
			if _, err := os.Stat(filepath.Join("/run/user", u.Uid, name)); err == nil {
				t.Skipf("this machine has a user bus at /run/user/%s/%s, so 'no session bus' cannot be staged", u.Uid, name)
			}
		}
	}
	return map[string]string{"ZT_PLACEHOLDER": "1"}
}

func TestKeyringNoSessionBus(t *testing.T) {
	env := noBusEnv(t)
	for _, op := range []string{"get", "set", "delete"} {
		r := runKeyringChild(t, env, op, "https://z.example", "alice", "tok-nobus", 5*time.Second)
		if !r.NoKeyring {
			t.Fatalf("%s without a bus: %+v", op, r)
		}
		want := "No keyring available: there is no D-Bus session bus. Run inside a desktop session, or install and start a Secret Service (gnome-keyring or KeePassXC), or set ZIPLINE_SERVER and ZIPLINE_TOKEN in the environment."
		if r.Err != want || r.Explained != want {
			t.Fatalf("%s: %q", op, r.Err)
		}
	}
}

// startPrivateBus starts a dbus-daemon with no service files, so nothing
// can be activated on it, and returns its address.
func startPrivateBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		if os.Getenv("ZIPLINE_TRAY_REAL_KEYRING") == "1" {
			t.Fatal("dbus-daemon not found (package dbus)")
		}
		t.Skip("dbus-daemon not found (package dbus)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--print-address", "--nofork")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder // dbus-daemon complains about fd limits as non-root
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Scan()
		line <- strings.TrimSpace(sc.Text())
	}()
	select {
	case addr := <-line:
		if addr == "" {
			t.Fatalf("dbus-daemon printed no address: %s", stderr.String())
		}
		return addr
	case <-time.After(20 * time.Second):
		t.Fatal("dbus-daemon did not start")
	}
	return ""
}

func TestKeyringBusWithoutSecretService(t *testing.T) {
	addr := startPrivateBus(t)
	for _, op := range []string{"get", "set"} {
		r := runKeyringChild(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr}, op, "https://z.example", "alice", "tok-x", 5*time.Second)
		if !r.NoKeyring || r.Timeout {
			t.Fatalf("%s: %+v", op, r)
		}
		for _, w := range []string{"no Secret Service", "gnome-keyring", "KeePassXC", "ZIPLINE_TOKEN"} {
			if !strings.Contains(r.Err, w) {
				t.Errorf("%s: %q lacks %q", op, r.Err, w)
			}
		}
	}
}

func TestKeyringDeadBusAddress(t *testing.T) {
	addr := "unix:path=" + filepath.Join(t.TempDir(), "no-such-bus")
	r := runKeyringChild(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr}, "get", "https://z.example", "alice", "", 5*time.Second)
	if !r.NoKeyring || !strings.Contains(r.Err, "does not answer") {
		t.Fatalf("dead bus: %+v", r)
	}
}

// fakeSecretService owns org.freedesktop.secrets on a private bus and
// answers Unlock with a prompt. With dismiss it completes the prompt as
// dismissed (a locked keyring and no one to type the password); without,
// it never completes (an unlock dialog the user ignores).
type fakeSecretService struct {
	conn    *dbus.Conn
	dismiss bool
}

func (f *fakeSecretService) OpenSession(alg string, in dbus.Variant) (dbus.Variant, dbus.ObjectPath, *dbus.Error) {
	return dbus.MakeVariant(""), "/org/freedesktop/secrets/session/1", nil
}

func (f *fakeSecretService) Unlock(objects []dbus.ObjectPath) ([]dbus.ObjectPath, dbus.ObjectPath, *dbus.Error) {
	return []dbus.ObjectPath{}, "/org/freedesktop/secrets/prompt/1", nil
}

type fakePrompt struct{ f *fakeSecretService }

func (p fakePrompt) Prompt(windowID string) *dbus.Error {
	if p.f.dismiss {
		p.f.conn.Emit("/org/freedesktop/secrets/prompt/1", "org.freedesktop.Secret.Prompt.Completed", true, dbus.MakeVariant(""))
	}
	return nil
}

func startFakeSecretService(t *testing.T, addr string, dismiss bool) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeSecretService{conn: conn, dismiss: dismiss}
	if err := conn.Export(f, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Export(fakePrompt{f}, "/org/freedesktop/secrets/prompt/1", "org.freedesktop.Secret.Prompt"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.secrets", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.secrets: %v %v", reply, err)
	}
}

func TestKeyringLockedNoPrompter(t *testing.T) {
	addr := startPrivateBus(t)
	startFakeSecretService(t, addr, true)
	r := runKeyringChild(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr}, "get", "https://z.example", "alice", "", 5*time.Second)
	if !r.NoKeyring || !strings.Contains(r.Err, "unlock your keyring") {
		t.Fatalf("locked keyring: %+v", r)
	}
}

// A keyring whose unlock prompt is never answered must not hang the caller.
func TestKeyringPromptTimeout(t *testing.T) {
	addr := startPrivateBus(t)
	startFakeSecretService(t, addr, false)
	const deadline = 1 * time.Second
	for _, op := range []string{"get", "set"} {
		r := runKeyringChild(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr}, op, "https://z.example", "alice", "tok-timeout", deadline)
		if !r.Timeout || !strings.Contains(r.Err, "did not answer within 1s") || !strings.Contains(r.Err, "unlock") {
			t.Fatalf("%s with an unanswered prompt: %+v", op, r)
		}
		if strings.Contains(r.Err, "tok-timeout") {
			t.Fatal("token in the error")
		}
	}
	r := runKeyringChild(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr}, "get3", "https://z.example", "alice", "", deadline)
	if !r.Timeout {
		t.Fatalf("concurrent calls behind a stuck prompt: %+v", r)
	}
}

// A real gnome-keyring whose login keyring was never unlocked, on a bus
// where no prompter can be started (a headless box, an SSH session): the
// user is told to unlock the keyring, at once.
func TestKeyringRealLockedGnomeKeyring(t *testing.T) {
	if _, err := exec.LookPath("gnome-keyring-daemon"); err != nil {
		if os.Getenv("ZIPLINE_TRAY_REAL_KEYRING") == "1" {
			t.Fatal("gnome-keyring-daemon not found (package gnome-keyring)")
		}
		t.Skip("gnome-keyring-daemon not found (package gnome-keyring)")
	}
	addr := startPrivateBus(t)
	home := t.TempDir()
	runtimeDir := t.TempDir()
	cmd := exec.Command("gnome-keyring-daemon", "--foreground", "--components=secrets")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_RUNTIME_DIR=" + runtimeDir,
		"DBUS_SESSION_BUS_ADDRESS=" + addr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitForName(t, addr, "org.freedesktop.secrets", 20*time.Second)

	env := map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr, "HOME": home}
	for _, op := range []string{"set", "get"} {
		r := runKeyringChild(t, env, op, "https://z.example", "alice", "tok-locked", 10*time.Second)
		if !r.NoKeyring || !strings.Contains(r.Err, "unlock your keyring") || strings.Contains(r.Err, "tok-locked") {
			t.Fatalf("%s on a locked gnome-keyring: %+v", op, r)
		}
	}
}

// waitForName waits until name has an owner on the bus at addr.
func waitForName(t *testing.T, addr, name string, within time.Duration) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// NameOwnerChanged tells us the moment it is taken; check once first
	// in case it already is.
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, name)); err != nil {
		t.Fatal(err)
	}
	sig := make(chan *dbus.Signal, 8)
	conn.Signal(sig)
	var has bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has); err != nil {
		t.Fatal(err)
	}
	if has {
		return
	}
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		select {
		case s := <-sig:
			if len(s.Body) == 3 && s.Body[0] == name && s.Body[2] != "" {
				return
			}
		case <-deadline.C:
			t.Fatalf("%s did not appear on the bus within %s", name, within)
		}
	}
}
