package uploader

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// asUser runs fn on one OS thread whose effective uid is uid (Linux keeps
// credentials per thread; SO_PEERCRED takes the connecting thread's).
func asUser(t *testing.T, uid int, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, ^uintptr(0), uintptr(uid), ^uintptr(0)); e != 0 {
		t.Fatalf("setresuid: %v", e)
	}
	defer func() {
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, ^uintptr(0), 0, ^uintptr(0)); e != 0 {
			panic("cannot switch back to root: " + e.Error())
		}
	}()
	fn()
}

// openToAll lets any user reach the socket of a state folder in a t.TempDir:
// the folders on the way and the socket itself (as in the instant between
// listen and chmod, or a shared temp folder).
func openToAll(t *testing.T, sock string) {
	t.Helper()
	for d := filepath.Dir(sock); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
}

// The owner answers only its own user (and root): another local user that
// reaches the socket must not be able to queue files or read the history.
func TestControlRefusesOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test connects as another user")
	}
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.open(t, f.config())
	sock := socketPath(f.state)
	openToAll(t, sock)

	ask := func() (string, error) {
		c, err := net.Dial("unix", sock)
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if err := json.NewEncoder(c).Encode(Request{Op: OpHistory}); err != nil {
			return "", err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		return line, err
	}
	var answer string
	var err error
	asUser(t, 65534, func() { answer, err = ask() })
	if strings.Contains(answer, `"ok":true`) {
		t.Fatalf("another user got an answer: %q", answer)
	}
	if err == nil {
		t.Fatalf("another user's request: no error, answer %q", answer)
	}
	// The owner's own user still gets answers.
	if answer, err := ask(); err != nil || !strings.Contains(answer, `"ok":true`) {
		t.Fatalf("own request: %q, %v", answer, err)
	}
}

// A control socket another user put where ours goes (the shared temp
// folder, for long state paths) is not spoken to: it would learn which
// files to upload and could answer that they were queued.
func TestCallRefusesAnotherUsersSocket(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the socket must belong to another user")
	}
	state := t.TempDir()
	sock := socketPath(state)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chown(sock, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = Call(ctx, state, Request{Op: OpAdd, Paths: []string{"/home/someone/secret.png"}})
	if err == nil || !strings.Contains(err.Error(), "not this user's") {
		t.Errorf("Call to another user's socket = %v, want a refusal naming the socket", err)
	}
	select {
	case <-accepted:
		t.Error("the other user's socket was connected to")
	default:
	}
}

// The owner check of the socket file comes before the dial; what answers
// the dial is checked too (another user may have put a socket there in
// between): here a socket file of ours, listened on by another user.
func TestCallRefusesAnotherUsersListener(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the listener must belong to another user")
	}
	state := t.TempDir()
	sock := socketPath(state)
	for d := state; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	var ln net.Listener
	var err error
	asUser(t, 65534, func() { ln, err = net.Listen("unix", sock) })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chown(sock, 0, 0); err != nil { // the file looks like ours
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- line
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = Call(ctx, state, Request{Op: OpAdd, Paths: []string{"/home/someone/secret.png"}})
	if err == nil || !strings.Contains(err.Error(), "another user") {
		t.Errorf("Call answered by another user's listener = %v, want a refusal", err)
	}
	// The connection is closed by now: the listener reads what it was told.
	select {
	case line := <-got:
		if strings.Contains(line, "secret.png") {
			t.Errorf("the other user's listener was told %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Error("the connection to the other user's listener was left open")
	}
}
