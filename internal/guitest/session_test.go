package guitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/internal/traytest"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// Test account on the fake server.
const (
	testUser     = "alice"
	testPassword = "correct horse battery"
)

// needDesktop skips unless the test runs inside scripts/testenv.sh (which
// `make test` uses) with the tools the tests drive the app with.
func needDesktop(t *testing.T) {
	t.Helper()
	if os.Getenv("ZIPLINE_TRAY_REAL_KEYRING") == "" {
		t.Skip("GUI end-to-end test: run it inside scripts/testenv.sh (make test), which provides a display, a session bus and a keyring")
	}
	for _, tool := range []string{"Xvfb", "dbus-daemon", "gnome-keyring-daemon", "xdotool", "import", "xclip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("GUI tests need %s (make deps installs it): %v", tool, err)
		}
	}
}

// app is the real zipline-tray, built with the race detector when the
// tests have it, so the app's own data races fail the test and the build
// reuses the cache of `go test -race`.
var app = &testutil.Binary{
	Pkg:   "github.com/zipline-tray/zipline-tray",
	Flags: append([]string{"-tags", "migrated_fynedo"}, raceFlag()...),
}

func raceFlag() []string {
	if raceEnabled {
		return []string{"-race"}
	}
	return nil
}

// TestMain removes the built binary at the end.
func TestMain(m *testing.M) {
	code := m.Run()
	app.Remove()
	os.Exit(code)
}

// binary returns the real zipline-tray: $ZIPLINE_TRAY_TEST_BIN, a binary
// built elsewhere, or else app, built once per test run.
func binary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ZIPLINE_TRAY_TEST_BIN"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	return app.Path(t)
}

// session is a private desktop session: temporary home, its own X
// display (Xvfb), its own session bus with an unlocked gnome-keyring, and
// the fake tray host and notification server on that bus. Nothing is
// shared with other tests running at the same time: not windows, not the
// clipboard, not bus names.
type session struct {
	t    *testing.T
	dir  string
	bus  *traytest.Bus
	host *traytest.Host
	env  []string
	bin  string
}

type sessionOpt int

const noTrayHost sessionOpt = 1 // a desktop without a tray (GNOME without the AppIndicator extension)

func newSession(t *testing.T, opts ...sessionOpt) *session {
	t.Helper()
	needDesktop(t)
	s := &session{t: t, dir: t.TempDir(), bin: binary(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	bus, err := traytest.NewBus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.bus = bus
	t.Cleanup(func() { bus.Close() }) // also ends gnome-keyring-daemon, which quits with its bus

	dirs := map[string]string{
		"HOME":              "home",
		"XDG_CONFIG_HOME":   "home/.config",
		"XDG_DATA_HOME":     "home/.local/share",
		"XDG_STATE_HOME":    "home/.local/state",
		"XDG_CACHE_HOME":    "home/.cache",
		"XDG_RUNTIME_DIR":   "run",
		"ZIPLINE_TRAY_HOME": "profile",
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, mine := dirs[k]; mine || k == "DBUS_SESSION_BUS_ADDRESS" || k == "DISPLAY" || k == "WAYLAND_DISPLAY" || strings.HasPrefix(k, "ZIPLINE_") {
			continue
		}
		s.env = append(s.env, kv)
	}
	for k, rel := range dirs {
		p := filepath.Join(s.dir, rel)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		s.env = append(s.env, k+"="+p)
	}
	s.env = append(s.env, "DBUS_SESSION_BUS_ADDRESS="+bus.Address, "DISPLAY="+startXvfb(t))

	// A real Secret Service on the private bus, unlocked, as testenv does.
	kr := exec.Command("gnome-keyring-daemon", "--unlock", "--components=secrets")
	kr.Env = s.env
	kr.Stdin = strings.NewReader("testpass")
	if out, err := kr.CombinedOutput(); err != nil {
		t.Fatalf("gnome-keyring-daemon: %v\n%s", err, out)
	}

	conn, err := traytest.Connect(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := waitName(ctx, conn, "org.freedesktop.secrets"); err != nil {
		t.Fatalf("keyring on the private bus: %v", err)
	}
	if len(opts) == 0 || opts[0] != noTrayHost {
		host, err := traytest.Start(conn)
		if err != nil {
			t.Fatal(err)
		}
		s.host = host
		t.Cleanup(func() { host.Close() })
	}
	return s
}

// startXvfb starts a virtual display for one test and returns its name.
// Xvfb picks a free number itself (-displayfd).
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// -noreset: by default the server resets when its last client leaves
	// (here the readiness check below), and a client connecting during the
	// reset is refused — the app then fails with "PlatformUnavailable".
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr testutil.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
			t.Errorf("Xvfb exited during the test (%v):\n%s", cmd.ProcessState, stderr.String())
			return
		default:
		}
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	})
	// Xvfb writes the display number once it accepts clients; the read
	// ends with EOF if it dies first.
	var num string
	buf := make([]byte, 16)
	for {
		n, err := r.Read(buf)
		num += string(buf[:n])
		if strings.HasSuffix(num, "\n") || err != nil {
			break
		}
	}
	num = strings.TrimSpace(num)
	if num == "" {
		t.Fatalf("Xvfb did not start:\n%s", stderr.String())
	}
	display := ":" + num
	// An X client gets through before the app is started.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = poll(ctx, "Xvfb "+display+" to answer", func() (bool, error) {
		c := exec.CommandContext(ctx, "xdotool", "getdisplaygeometry")
		c.Env = append(os.Environ(), "DISPLAY="+display)
		out, err := c.CombinedOutput()
		if err != nil {
			return false, fmt.Errorf("%w: %s", err, out)
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	return display
}

// display is the session's X display (":N").
func (s *session) display() string {
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, "DISPLAY="); ok {
			return v
		}
	}
	return ""
}

func (s *session) path(rel string) string { return filepath.Join(s.dir, rel) }

// waitName waits until someone owns name on the bus.
func waitName(ctx context.Context, conn *dbus.Conn, name string) error {
	return poll(ctx, "bus name "+name, func() (bool, error) {
		var has bool
		err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has)
		return has, err
	})
}

// poll calls check every 50 ms until it reports true or ctx ends; the
// last error is in the timeout message.
func poll(ctx context.Context, what string, check func() (bool, error)) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var last error
	for {
		ok, err := check()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %v)", what, context.Cause(ctx), last)
			}
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// fakeServer starts a fake Zipline with the test user.
func fakeServer(t *testing.T) *ziplinetest.Server {
	t.Helper()
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	t.Cleanup(srv.Close)
	srv.AddUser(testUser, testPassword, ziplinetest.RoleUser)
	return srv
}

// run runs the binary as a CLI command in the session and returns its
// output; it fails the test on a non-zero exit.
func (s *session) run(stdin string, args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = s.env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("zipline-tray %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// login signs the session's profile in to srv with the CLI.
func (s *session) login(srv *ziplinetest.Server) {
	s.t.Helper()
	s.run(testPassword+"\n", "login", "--server", srv.URL, "--username", testUser, "--password-stdin")
}

// appProc is the running desktop app.
type appProc struct {
	display string // the session's X display, for xdotool and import
	cmd     *exec.Cmd
	out     *testutil.Buffer
	done    chan struct{}
}

// start runs the desktop app (no arguments) in the session, with extra
// environment variables ("K=V"); the test's cleanup stops it and fails the
// test if it reported a data race.
func (s *session) start(env ...string) *appProc {
	s.t.Helper()
	cmd := exec.Command(s.bin)
	cmd.Env = append(append([]string{}, s.env...), "ZIPLINE_TRAY_VERBOSE=1", "GORACE=exitcode=0")
	cmd.Env = append(cmd.Env, env...)
	out := &testutil.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	a := &appProc{display: s.display(), cmd: cmd, out: out, done: make(chan struct{})}
	go func() { cmd.Wait(); close(a.done) }()
	t := s.t
	t.Cleanup(func() {
		a.stop()
		ours, theirs := races(out.String())
		for _, r := range theirs {
			t.Logf("data race inside a dependency (not zipline-tray's code), ignored:\n%s", r)
		}
		for _, r := range ours {
			t.Errorf("the app has a data race:\n%s", r)
		}
		if t.Failed() {
			t.Logf("app output:\n%s", out)
			logs, _ := filepath.Glob(filepath.Join(s.path("profile"), "*", "logs", "*.log"))
			for _, f := range logs {
				b, _ := os.ReadFile(f)
				t.Logf("%s:\n%s", f, b)
			}
		}
	})
	return a
}

// races splits the race detector's reports in out into those touching
// zipline-tray's code (an access in package main or the module) and those
// wholly inside dependencies (fyne.io/systray has one between its menu
// refresh and GetLayout, which any tray host's polling can hit).
func races(out string) (ours, theirs []string) {
	const start, sep = "WARNING: DATA RACE", "=================="
	for {
		i := strings.Index(out, start)
		if i < 0 {
			return ours, theirs
		}
		out = out[i:]
		end := strings.Index(out, sep)
		if end < 0 {
			end = len(out)
		}
		report := out[:end]
		out = out[end:]
		if touchesOurCode(report) {
			ours = append(ours, report)
		} else {
			theirs = append(theirs, report)
		}
	}
}

// touchesOurCode reads the access stacks of a race report ("Write at",
// "Previous read at"...; not where goroutines were created). The race is
// ours when an access happens in our code, or when both accesses come
// through our code (two of our goroutines using a library unsafely). A
// race between a library's own goroutines is not ours even if we called
// into the library correctly on one side (fyne.io/systray updates its
// D-Bus properties in place while godbus encodes a reply from them).
func touchesOurCode(report string) bool {
	var stacks [][]string
	cur := -1
	for _, line := range strings.Split(report, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			cur = -1
			if strings.Contains(line, " at ") && !strings.HasPrefix(line, "Goroutine ") {
				stacks = append(stacks, nil)
				cur = len(stacks) - 1
			}
			continue
		}
		l := strings.TrimSpace(line)
		if cur < 0 || strings.HasPrefix(l, "/") || strings.HasPrefix(l, "<autogenerated>") {
			continue // file:line lines
		}
		stacks[cur] = append(stacks[cur], l)
	}
	if len(stacks) == 0 {
		return false
	}
	all := true
	for _, frames := range stacks {
		for _, f := range frames {
			if isRuntimeFrame(f) {
				continue
			}
			if isOurFrame(f) {
				return true // the access itself is in our code
			}
			break
		}
		has := false
		for _, f := range frames {
			has = has || isOurFrame(f)
		}
		all = all && has
	}
	return all
}

func isOurFrame(f string) bool {
	return strings.HasPrefix(f, "main.") || strings.HasPrefix(f, "github.com/zipline-tray/zipline-tray/")
}

func isRuntimeFrame(f string) bool {
	for _, p := range []string{"runtime.", "reflect.", "sync.", "sync/atomic.", "internal/"} {
		if strings.HasPrefix(f, p) {
			return true
		}
	}
	return false
}

func (a *appProc) pid() int { return a.cmd.Process.Pid }

// stop ends the app: SIGTERM, then SIGKILL if it has not exited in 10 s.
func (a *appProc) stop() {
	select {
	case <-a.done:
		return
	default:
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-a.done:
	case <-timer.C:
		a.cmd.Process.Kill()
		<-a.done
	}
}

// exited reports whether the app has exited.
func (a *appProc) exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// x runs an X client (xdotool, import, xclip) on the app's display.
func (a *appProc) x(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+a.display)
	return cmd
}

// xdotool runs xdotool on the app's display.
func (a *appProc) xdotool(ctx context.Context, args ...string) (string, error) {
	cmd := a.x(ctx, "xdotool", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("xdotool %s: %w %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// visibleWindows lists the app's mapped windows by title.
func (a *appProc) visibleWindows(ctx context.Context) (map[string]string, error) {
	out, err := a.xdotool(ctx, "search", "--onlyvisible", "--pid", strconv.Itoa(a.pid()), "--name", ".")
	if err != nil {
		// xdotool exits 1 when nothing matches.
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 {
			return map[string]string{}, nil
		}
		return nil, err
	}
	wins := map[string]string{}
	for _, id := range strings.Fields(out) {
		name, err := a.xdotool(ctx, "getwindowname", id)
		if err != nil {
			continue // closed meanwhile
		}
		wins[name] = id
	}
	return wins, nil
}

// waitWindow waits until the app shows a window titled title and returns
// its X window id.
func (a *appProc) waitWindow(ctx context.Context, title string) (string, error) {
	var id string
	var seen map[string]string
	err := poll(ctx, fmt.Sprintf("window %q", title), func() (bool, error) {
		if a.exited() {
			return false, errors.New("the app exited")
		}
		wins, err := a.visibleWindows(ctx)
		if err != nil {
			return false, err
		}
		seen = wins
		id = wins[title]
		return id != "", nil
	})
	if err != nil {
		return "", fmt.Errorf("%w; visible windows: %v", err, keys(seen))
	}
	return id, nil
}

// waitNoWindow waits until the app shows no window titled title.
func (a *appProc) waitNoWindow(ctx context.Context, title string) error {
	return poll(ctx, fmt.Sprintf("window %q to close", title), func() (bool, error) {
		wins, err := a.visibleWindows(ctx)
		if err != nil {
			return false, err
		}
		return wins[title] == "", nil
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// capture takes a PNG of window id (X window id as xdotool prints it).
func (a *appProc) capture(ctx context.Context, id, file string) (image.Image, error) {
	out, err := a.x(ctx, "import", "-window", id, file).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("import -window %s: %w\n%s", id, err, out)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", file, err)
	}
	return img, nil
}

// colours counts the distinct colours in img.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}
