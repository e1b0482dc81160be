//go:build unix

package cli_test

// End-to-end tests: the real command-line binary (built once, CGO_ENABLED=0
// with -tags migrated_fynedo,nogui) run as a user would, against the fake
// Zipline server on loopback, with ZIPLINE_TRAY_HOME set to a temporary
// profile. The sign-in tests need a real keyring: scripts/testenv.sh
// provides one and sets ZIPLINE_TRAY_REAL_KEYRING=1.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// cliBinary is the CLI-only binary, built once per test run.
var cliBinary = &testutil.Binary{
	Pkg:   "github.com/zipline-tray/zipline-tray",
	Flags: []string{"-tags", "migrated_fynedo,nogui"},
	Env:   []string{"CGO_ENABLED=0"},
}

func TestMain(m *testing.M) {
	code := m.Run()
	cliBinary.Remove()
	os.Exit(code)
}

// binary builds the CLI-only binary once per test run.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the end-to-end tests that build the binary")
	}
	return cliBinary.Path(t)
}

// profile is one user's ZIPLINE_TRAY_HOME plus extra environment.
type profile struct {
	t    *testing.T
	bin  string
	home string
	env  map[string]string
	// outputs collects everything the binary printed, to check for secrets.
	outputs bytes.Buffer
}

func newProfile(t *testing.T) *profile {
	return &profile{t: t, bin: binary(t), home: t.TempDir(), env: map[string]string{}}
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the binary with stdin and args and waits for it.
func (p *profile) run(stdin string, args ...string) result {
	p.t.Helper()
	return p.start(stdin, args...).wait()
}

// proc is a started binary.
type proc struct {
	p        *profile
	cmd      *exec.Cmd
	args     []string
	out, err bytes.Buffer
	cancel   context.CancelFunc
}

// start starts the binary. The process gets its own process group, ended
// when the test ends (a clipboard tool it started may still be serving the
// selection until then).
func (p *profile) start(stdin string, args ...string) *proc {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, p.bin, args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ZIPLINE_") {
			env = append(env, kv)
		}
	}
	env = append(env, auth.HomeEnv+"="+p.home)
	for k, v := range p.env {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	pr := &proc{p: p, cmd: cmd, args: args, cancel: cancel}
	cmd.Stdout, cmd.Stderr = &pr.out, &pr.err
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		cancel()
		p.t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	p.t.Cleanup(func() { testutil.KillGroup(p.t, pgid) })
	return pr
}

func (pr *proc) wait() result {
	pr.p.t.Helper()
	defer pr.cancel()
	err := pr.cmd.Wait()
	r := result{stdout: pr.out.String(), stderr: pr.err.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		pr.p.t.Fatalf("run %q: %v", pr.args, err)
	}
	pr.p.outputs.WriteString(r.stdout + r.stderr)
	return r
}

// want asserts the exit code and that stderr/stdout contain the strings.
func (r result) want(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, stdout) {
		t.Errorf("stdout %q lacks %q", r.stdout, stdout)
	}
	if !strings.Contains(r.stderr, stderr) {
		t.Errorf("stderr %q lacks %q", r.stderr, stderr)
	}
}

// noSecret asserts that secret appears in no file under the profile and in
// nothing the binary printed.
func (p *profile) noSecret(secret string) {
	p.t.Helper()
	if secret == "" {
		p.t.Fatal("noSecret: empty secret")
	}
	if strings.Contains(p.outputs.String(), secret) {
		p.t.Error("the token appeared in the output")
	}
	n := 0
	filepath.WalkDir(p.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := os.ReadFile(path)
		if err != nil {
			p.t.Errorf("read %s: %v", path, err)
			return nil
		}
		if bytes.Contains(b, []byte(secret)) {
			p.t.Errorf("the token is in %s", path)
		}
		return nil
	})
	if n == 0 && p.env[auth.TokenEnv] == "" {
		p.t.Error("the profile folder is empty: was ZIPLINE_TRAY_HOME used?")
	}
}

func needKeyring(t *testing.T) {
	if os.Getenv("ZIPLINE_TRAY_REAL_KEYRING") == "" {
		t.Skip("needs a real keyring: run inside scripts/testenv.sh (make test); the upload tests use ZIPLINE_SERVER/ZIPLINE_TOKEN instead")
	}
}

func writeFiles(t *testing.T, sizes ...int) []string {
	t.Helper()
	dir := t.TempDir()
	paths := make([]string, len(sizes))
	for i, n := range sizes {
		b := bytes.Repeat([]byte{byte(i + 1)}, n)
		copy(b, fmt.Sprintf("file %d %d", i, time.Now().UnixNano()))
		paths[i] = filepath.Join(dir, fmt.Sprintf("shot %d.png", i))
		if err := os.WriteFile(paths[i], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// checkLinks asserts one link per path on stdout, in order, each serving
// that path's content on the server.
func checkLinks(t *testing.T, srv *ziplinetest.Server, stdout string, paths []string) {
	t.Helper()
	lines := strings.Fields(stdout)
	if len(lines) != len(paths) {
		t.Fatalf("stdout has %d links, want %d:\n%s", len(lines), len(paths), stdout)
	}
	byURL := map[string]ziplinetest.File{}
	for _, f := range srv.Files() {
		byURL[f.URL] = f
	}
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		f, ok := byURL[lines[i]]
		if !ok || f.SHA256 != hex.EncodeToString(sum[:]) || !f.Complete {
			t.Errorf("link %d (%s) is not the complete upload of %s (found %v)", i+1, lines[i], p, ok)
		}
	}
}

func storedToken(t *testing.T, server, user string) string {
	t.Helper()
	tok, err := auth.NewKeyring().Get(server, user)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	return tok
}

func TestE2EPasswordLoginUploadLogout(t *testing.T) {
	needKeyring(t)
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	defer srv.Close()
	srv.AddUser("alice", "correct horse", ziplinetest.RoleUser)
	p := newProfile(t)

	p.run("wrong\n", "login", "--server", srv.URL, "--username", "alice", "--password-stdin").
		want(t, 1, "", "wrong username or password")
	p.run("correct horse\n", "login", "--server", srv.URL, "--username", "alice", "--password-stdin").
		want(t, 0, "Signed in to "+srv.URL+" as alice (USER)", "")
	tok := storedToken(t, srv.URL, "alice")
	t.Cleanup(func() { auth.NewKeyring().Delete(srv.URL, "alice") })

	p.run("", "whoami").want(t, 0, "user:    alice\nrole:    USER\nserver:  "+srv.URL, "")

	files := writeFiles(t, 3<<20, 100, 5000, 1)
	missing := filepath.Join(filepath.Dir(files[0]), "missing.png")
	args := append([]string{"upload"}, files[:2]...)
	args = append(args, missing)
	args = append(args, files[2:]...)
	r := p.run("", args...)
	r.want(t, 1, "", missing+": no such file\n")
	checkLinks(t, srv, r.stdout, files)
	if strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr has more than the one failure: %q", r.stderr)
	}

	p.noSecret(tok)
	p.noSecret("correct horse")

	// The token is reset on the server: exit 3 and "sign in again".
	if err := srv.ResetToken("alice"); err != nil {
		t.Fatal(err)
	}
	r = p.run("", "upload", files[1])
	r.want(t, 3, "", "zipline-tray login")
	if r.stdout != "" {
		t.Errorf("stdout after 401: %q", r.stdout)
	}
	p.run("", "whoami").want(t, 3, "", "zipline-tray login")

	p.run("", "logout").want(t, 0, "Signed out of "+srv.URL, "")
	if _, err := auth.NewKeyring().Get(srv.URL, "alice"); err == nil {
		t.Error("the token is still in the keyring after logout")
	}
	p.run("", "whoami").want(t, 3, "", "not signed in")
	p.noSecret(tok)
}

func TestE2ETOTPLogin(t *testing.T) {
	needKeyring(t)
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	defer srv.Close()
	srv.AddUser("carol", "pw-carol", ziplinetest.RoleAdmin)
	totp, err := srv.EnableTOTP("carol")
	if err != nil {
		t.Fatal(err)
	}
	p := newProfile(t)
	p.run("pw-carol\n", "login", "--server", srv.URL, "--username", "carol", "--password-stdin").
		want(t, 2, "", "this account needs a two-factor code: pass --totp")
	p.run("pw-carol\n", "login", "--server", srv.URL, "--username", "carol", "--password-stdin", "--totp", totp.Code()).
		want(t, 0, "as carol (ADMIN)", "")
	t.Cleanup(func() { auth.NewKeyring().Delete(srv.URL, "carol") })
	p.run("", "whoami").want(t, 0, "user:    carol", "")
	p.noSecret(storedToken(t, srv.URL, "carol"))
}

func TestE2ETokenLogin(t *testing.T) {
	needKeyring(t)
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	defer srv.Close()
	u := srv.AddUser("dave", "", ziplinetest.RoleUser) // OAuth-only: no password
	tok := u.Token()
	p := newProfile(t)
	p.run("\n", "login", "--server", srv.URL, "--token-stdin").want(t, 2, "", "empty")
	p.run(tok+"\n", "login", "--server", srv.URL, "--token-stdin").want(t, 0, "Signed in to "+srv.URL+" as dave", "")
	t.Cleanup(func() { auth.NewKeyring().Delete(srv.URL, "dave") })
	if got := storedToken(t, srv.URL, "dave"); got != tok {
		t.Error("the keyring holds another token than the one given")
	}
	files := writeFiles(t, 10, 20)
	r := p.run("", append([]string{"upload"}, files...)...)
	r.want(t, 0, "", "")
	checkLinks(t, srv, r.stdout, files)
	p.noSecret(tok)
}

func TestE2EEnvironmentCredentials(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	defer srv.Close()
	u := srv.AddUser("erin", "pw", ziplinetest.RoleUser)
	tok := u.Token()
	p := newProfile(t)
	p.env[auth.ServerEnv] = srv.URL
	p.env[auth.TokenEnv] = tok

	p.run("", "whoami").want(t, 0, "user:    erin", "")
	files := writeFiles(t, 2<<20, 10, 300, 70_000, 5)
	missing := filepath.Join(t.TempDir(), "nope.png")
	r := p.run("", append(append([]string{"upload", "--expires", "1d"}, files...), missing)...)
	r.want(t, 1, "", missing+": no such file")
	checkLinks(t, srv, r.stdout, files)
	for _, f := range srv.Files() {
		if f.Options.Get("X-Zipline-Deletes-At") != "1d" {
			t.Errorf("%s uploaded without the expiry", f.Name)
		}
	}
	// The uploads are in the shared history.
	h := p.run("", "history")
	h.want(t, 0, "", "")
	for _, link := range strings.Fields(r.stdout) {
		if !strings.Contains(h.stdout, link) {
			t.Errorf("history lacks %s:\n%s", link, h.stdout)
		}
	}

	srv.ResetToken("erin")
	p.run("", append([]string{"upload"}, files...)...).want(t, 3, "", "zipline-tray login")
	// The token was only in the environment: it is in no output and no
	// profile file.
	p.noSecret(tok)
}

func TestE2ECopyToClipboard(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY: run inside scripts/testenv.sh (Xvfb) for the clipboard test")
	}
	xclip, err := exec.LookPath("xclip")
	if err != nil {
		t.Skip("xclip is not installed (make deps installs it)")
	}
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	defer srv.Close()
	u := srv.AddUser("frank", "pw", ziplinetest.RoleUser)
	p := newProfile(t)
	p.env[auth.ServerEnv] = srv.URL
	p.env[auth.TokenEnv] = u.Token()
	p.env["WAYLAND_DISPLAY"] = ""
	files := writeFiles(t, 42)
	r := p.run("", "upload", "--copy", files[0])
	r.want(t, 0, "http", "")
	link := strings.TrimSpace(r.stdout)
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := exec.Command(xclip, "-o", "-selection", "clipboard").Output()
		if err == nil && string(out) == link {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("clipboard = %q (%v), want %q", out, err, link)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestE2EUsage(t *testing.T) {
	p := newProfile(t)
	p.run("", "--help").want(t, 0, "Commands:", "")
	p.run("", "version").want(t, 0, "zipline-tray ", "")
	p.run("", "upload").want(t, 2, "", "no files given")
	p.run("", "upload", "--help").want(t, 0, "Usage: zipline-tray upload", "")
	p.run("", "frobnicate").want(t, 2, "", `unknown command "frobnicate"`)
	p.run("", "upload", "x.png").want(t, 3, "", "not signed in")
}

func TestE2EInterrupt(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	defer srv.Close()
	u := srv.AddUser("gina", "pw", ziplinetest.RoleUser)
	p := newProfile(t)
	p.env[auth.ServerEnv] = srv.URL
	p.env[auth.TokenEnv] = u.Token()
	// Uploads hang on the server until the client gives up.
	srv.SetDelay("/api/upload", time.Minute)
	files := writeFiles(t, 100, 200, 300)
	pr := p.start("", append([]string{"upload"}, files...)...)
	deadline := time.Now().Add(20 * time.Second)
	for srv.InFlight() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the uploads never reached the server (in flight: %d)", srv.InFlight())
		}
		time.Sleep(10 * time.Millisecond)
	}
	pr.cmd.Process.Signal(os.Interrupt)
	r := pr.wait()
	r.want(t, 130, "", files[0]+": not uploaded: interrupted")
	if r.stdout != "" {
		t.Errorf("stdout = %q", r.stdout)
	}
	for _, f := range files {
		if !strings.Contains(r.stderr, f+": ") {
			t.Errorf("stderr does not account for %s: %q", f, r.stderr)
		}
	}
	if n := len(srv.Files()); n != 0 {
		t.Errorf("%d files stored after the interrupt", n)
	}
}

// The CLI must not pull in the GUI toolkit: it runs on servers with no
// display, and the nogui binary is built without cgo.
func TestCLIDoesNotImportFyne(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	out, err := exec.Command("go", "list", "-deps", "-tags", "migrated_fynedo", "github.com/zipline-tray/zipline-tray/cli").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "fyne.io/") {
			t.Errorf("package cli depends on %s", pkg)
		}
	}
}

// TestE2EInteractiveLogin signs in on a real terminal (a pty from
// script(1)): the username is asked, the password read with echo off.
func TestE2EInteractiveLogin(t *testing.T) {
	needKeyring(t)
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed: needed for a pseudo-terminal")
	}
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	defer srv.Close()
	srv.AddUser("hana", "pw-hana", ziplinetest.RoleUser)
	p := newProfile(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, scriptBin, "-qec", p.bin+" login --server "+srv.URL, "/dev/null")
	cmd.Env = append(os.Environ(), auth.HomeEnv+"="+p.home)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &testutil.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.KillGroup(t, cmd.Process.Pid) })
	waitFor := func(s string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q on the terminal; got %q", s, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("Username on " + srv.URL + " (leave empty to paste an API token instead): ")
	io.WriteString(stdin, "hana\n")
	waitFor("Password for hana at " + srv.URL + ": ")
	io.WriteString(stdin, "pw-hana\n")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login on a terminal: %v\n%s", err, out.String())
	}
	t.Cleanup(func() { auth.NewKeyring().Delete(srv.URL, "hana") })
	if !strings.Contains(out.String(), "Signed in to "+srv.URL+" as hana") {
		t.Errorf("terminal: %q", out.String())
	}
	p.run("", "whoami").want(t, 0, "user:    hana", "")
}
