package guitest

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/traytest"
)

// watchFolder adds dir to the watched folders in the profile's
// config.json (written by the CLI login), keeping every other setting.
func (s *session) watchFolder(dir string) {
	s.t.Helper()
	file := filepath.Join(s.path("profile"), "config.json")
	raw, err := os.ReadFile(file)
	if err != nil {
		s.t.Fatalf("read settings after login: %v", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		s.t.Fatal(err)
	}
	watch, _ := cfg["watch"].(map[string]any)
	if watch == nil {
		watch = map[string]any{}
	}
	watch["folders"] = []any{map[string]any{"path": dir, "recursive": false}}
	cfg["watch"] = watch
	raw, err = json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// dropImage writes a small PNG into dir the way screenshot tools do:
// a hidden temporary file renamed into place.
func dropImage(t *testing.T, dir, name string, shade uint8) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.NRGBA{shade, uint8(x * 4), uint8(y * 5), 255})
		}
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func fromApp(a *appProc, match func(traytest.Notification) bool) func(traytest.Notification) bool {
	return func(n traytest.Notification) bool { return n.SenderPID == a.pid() && match(n) }
}

// uploadNote matches the app's notification of a finished upload.
func uploadNote(a *appProc) func(traytest.Notification) bool {
	return fromApp(a, func(n traytest.Notification) bool { return n.Summary == "Link copied" || n.Summary == "Uploaded" })
}

// iconBytes is the first IconPixmap image of the item, to compare states.
func iconBytes(ctx context.Context, t *testing.T, it *traytest.Item) []byte {
	t.Helper()
	icon, err := it.Icon(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(icon) == 0 || icon[0].W < 16 || icon[0].H < 16 || len(icon[0].Pix) != int(icon[0].W*icon[0].H*4) {
		t.Fatalf("tray icon pixmap is missing or empty: %d images", len(icon))
	}
	return icon[0].Pix
}

// waitIcon waits until the tray icon is (same) or is not (!same) want.
func waitIcon(ctx context.Context, t *testing.T, it *traytest.Item, want []byte, same bool, what string) {
	t.Helper()
	err := poll(ctx, what, func() (bool, error) {
		icon, err := it.Icon(ctx)
		if err != nil || len(icon) == 0 {
			return false, err
		}
		return bytes.Equal(icon[0].Pix, want) == same, nil
	})
	if err != nil {
		t.Error(err)
	}
}

// clipboard reads the CLIPBOARD selection on the app's display.
func (a *appProc) clipboard(ctx context.Context) (string, error) {
	out, err := a.x(ctx, "xclip", "-o", "-selection", "clipboard").Output()
	return string(out), err
}

// The signed-in app through the tray, as a desktop panel drives it: the
// item registers with a real icon; a left click and the menu open windows;
// Pause/Resume relabel the entry and swap the icon; a screenshot dropped
// in the watched folder is uploaded, announced, listed under Recent
// uploads and its link put on the clipboard; when the server stops
// accepting the token the next upload waits, a "sign in again"
// notification's action opens the sign-in window, and signing in there
// uploads the waiting file (nothing lost); a file opened with the app
// while it runs is handed to it; Quit ends the app.
func TestTrayFlow(t *testing.T) {
	s := newSession(t)
	srv := fakeServer(t)
	s.login(srv)
	shots := s.path("home/Pictures/Screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	s.watchFolder(shots)

	app := s.start()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	it, err := s.host.WaitItemPID(ctx, app.pid())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := it.StringProperty(ctx, "Status"); err != nil || st != "Active" {
		t.Errorf("tray Status = %q, %v; want Active", st, err)
	}
	menu, err := it.WaitMenu(ctx, func(m *traytest.MenuItem) bool { return m.Find(menuPause) != nil })
	if err != nil {
		t.Fatal(err)
	}
	idle := iconBytes(ctx, t, it)
	for _, label := range []string{menuDropZone, menuQueue, menuQuit} {
		if menu.Find(label) == nil {
			t.Errorf("tray menu has no %q:\n%s", label, menu)
		}
	}

	// Left click → the drop zone; the menu → queue & history.
	if err := it.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.waitWindow(ctx, titleDropZone); err != nil {
		t.Fatal(err)
	}
	if err := it.Click(ctx, menuQueue); err != nil {
		t.Fatal(err)
	}
	if _, err := app.waitWindow(ctx, titleQueue); err != nil {
		t.Fatal(err)
	}

	// Pause → the entry becomes Resume and the icon changes; Resume → back.
	if err := it.Click(ctx, menuPause); err != nil {
		t.Fatal(err)
	}
	if _, err := it.WaitMenu(ctx, func(m *traytest.MenuItem) bool { return m.Find(menuResume) != nil && m.Find(menuPause) == nil }); err != nil {
		t.Fatal(err)
	}
	waitIcon(ctx, t, it, idle, false, "the paused tray icon")
	if err := it.Click(ctx, menuResume); err != nil {
		t.Fatal(err)
	}
	if _, err := it.WaitMenu(ctx, func(m *traytest.MenuItem) bool { return m.Find(menuPause) != nil }); err != nil {
		t.Fatal(err)
	}
	waitIcon(ctx, t, it, idle, true, "the idle tray icon after Resume")

	// A screenshot in the watched folder is uploaded and announced, its
	// link is on the clipboard, and the menu lists it.
	dropImage(t, shots, "first.png", 10)
	note, err := s.host.WaitNotification(ctx, uploadNote(app))
	if err != nil {
		t.Fatal(err)
	}
	files := srv.Files()
	if len(files) != 1 {
		t.Fatalf("server has %d files after one screenshot, want 1 (notification: %s)", len(files), note)
	}
	link := files[0].URL
	if !strings.Contains(note.Body, link) {
		t.Errorf("notification body %q does not show the link %s", note.Body, link)
	}
	var clip string
	if err := poll(ctx, "the link on the clipboard", func() (bool, error) {
		var err error
		clip, err = app.clipboard(ctx)
		return strings.TrimSpace(clip) == link, err
	}); err != nil {
		t.Errorf("%v: clipboard has %q, want %q", err, clip, link)
	}
	if _, err := it.WaitMenu(ctx, func(m *traytest.MenuItem) bool {
		r := m.Find(menuRecent)
		return r != nil && r.Find("first.png") != nil
	}); err != nil {
		t.Error(err)
	}

	// The server forgets the token: the next upload gets a 401, the app
	// keeps the file and asks to sign in again.
	if err := srv.ResetToken(testUser); err != nil {
		t.Fatal(err)
	}
	dropImage(t, shots, "second.png", 200)
	note, err = s.host.WaitNotification(ctx, fromApp(app, func(n traytest.Notification) bool {
		return n.HasAction("default") && strings.Contains(strings.ToLower(n.Summary+n.Body), "sign in")
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Files()); got != 1 {
		t.Errorf("server has %d files after the rejected upload, want 1", got)
	}
	if _, err := it.WaitMenu(ctx, func(m *traytest.MenuItem) bool { return m.Find(menuSignInAgain) != nil }); err != nil {
		t.Error(err)
	}
	waitIcon(ctx, t, it, idle, false, "the sign-in tray icon")

	// Its action opens the sign-in window, with server and user filled in:
	// the password alone signs in again and the waiting file goes up.
	if err := s.host.InvokeAction(note.ID, "default"); err != nil {
		t.Fatal(err)
	}
	id, err := app.waitWindow(ctx, titleSignIn)
	if err != nil {
		t.Fatal(err)
	}
	app.typeKeys(ctx, t, "windowfocus", "--sync", id)
	app.typeKeys(ctx, t, "key", "Tab", "Tab", "Tab") // server, username, password
	app.typeKeys(ctx, t, "type", "--delay", "10", testPassword)
	app.typeKeys(ctx, t, "key", "Return")
	if err := app.waitNoWindow(ctx, titleSignIn); err != nil {
		t.Fatal(err)
	}
	if _, err := s.host.WaitNotification(ctx, fromApp(app, func(n traytest.Notification) bool {
		return strings.Contains(n.Body, "second.png")
	})); err != nil {
		t.Fatal(err)
	}
	if len(srv.Files()) != 2 {
		t.Errorf("server has %d files after signing in again, want 2", len(srv.Files()))
	}
	waitIcon(ctx, t, it, idle, true, "the idle tray icon after signing in again")

	// "Open with" / a file given on the command line while the app runs:
	// the second process hands the file to the running app and exits.
	other := s.path("home/third.png")
	dropImage(t, filepath.Dir(other), filepath.Base(other), 90)
	s.run("", other)
	if _, err := s.host.WaitNotification(ctx, fromApp(app, func(n traytest.Notification) bool {
		return strings.Contains(n.Body, "third.png")
	})); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Files()); n != 3 {
		t.Errorf("server has %d files after the hand-over, want 3", n)
	}

	// Quit from the tray ends the process cleanly.
	if err := it.Click(ctx, menuQuit); err != nil {
		t.Fatal(err)
	}
	select {
	case <-app.done:
		if code := app.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("app exited with %d after Quit", code)
		}
	case <-ctx.Done():
		t.Fatal("the app did not exit after Quit")
	}
}

// Without a tray host (GNOME without the AppIndicator extension) the app
// stays reachable: the drop zone opens by itself as the main window.
func TestWithoutTrayTheDropZoneOpens(t *testing.T) {
	s := newSession(t, noTrayHost)
	srv := fakeServer(t)
	s.login(srv)
	app := s.start()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := app.waitWindow(ctx, titleDropZone); err != nil {
		t.Fatal(err)
	}
}
