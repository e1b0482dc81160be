package guitest

import (
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

// The signed-in app through the tray, as a desktop panel drives it: the
// item registers with a real icon, the menu opens the drop zone and
// pauses/resumes, a screenshot dropped in the watched folder is uploaded
// and announced, a token the server no longer accepts turns into a
// "sign in again" notification whose action opens the sign-in window, and
// Quit ends the app.
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	it, err := s.host.WaitItemPID(ctx, app.pid())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := it.StringProperty(ctx, "Status"); err != nil || st != "Active" {
		t.Errorf("tray Status = %q, %v; want Active", st, err)
	}
	icon, err := it.Icon(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(icon) == 0 || icon[0].W < 16 || icon[0].H < 16 || len(icon[0].Pix) != int(icon[0].W*icon[0].H*4) {
		t.Errorf("tray icon pixmap is missing or empty: %d images", len(icon))
	}

	menu, err := it.WaitMenu(ctx, func(m *traytest.MenuItem) bool { return m.Find(menuPause) != nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{menuDropZone, menuQuit} {
		if menu.Find(label) == nil {
			t.Errorf("tray menu has no %q:\n%s", label, menu)
		}
	}

	// Open drop zone → its window appears.
	if err := it.Click(ctx, menuDropZone); err != nil {
		t.Fatal(err)
	}
	if _, err := app.waitWindow(ctx, titleDropZone); err != nil {
		t.Fatal(err)
	}

	// Pause → the entry becomes Resume; Resume → back.
	if err := it.Click(ctx, menuPause); err != nil {
		t.Fatal(err)
	}
	if _, err := it.WaitMenu(ctx, func(m *traytest.MenuItem) bool { return m.Find(menuResume) != nil && m.Find(menuPause) == nil }); err != nil {
		t.Fatal(err)
	}
	if err := it.Click(ctx, menuResume); err != nil {
		t.Fatal(err)
	}
	if _, err := it.WaitMenu(ctx, func(m *traytest.MenuItem) bool { return m.Find(menuPause) != nil }); err != nil {
		t.Fatal(err)
	}

	// A screenshot in the watched folder is uploaded and announced.
	dropImage(t, shots, "first.png", 10)
	note, err := s.host.WaitNotification(ctx, fromApp(app, func(n traytest.Notification) bool {
		return n.Summary == "Link copied" || n.Summary == "Uploaded"
	}))
	if err != nil {
		t.Fatal(err)
	}
	if files := srv.Files(); len(files) != 1 {
		t.Fatalf("server has %d files after one screenshot, want 1 (notification: %s)", len(files), note)
	}

	// The server forgets the token: the next upload gets a 401 and the app
	// asks to sign in again, losing nothing.
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
	if err := s.host.InvokeAction(note.ID, "default"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.waitWindow(ctx, titleSignIn); err != nil {
		t.Fatal(err)
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
