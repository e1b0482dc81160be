package guitest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/traytest"
)

// A file dragged from another X client onto the drop zone goes up, for
// real: an XDND source (xdnd_test.go) offers text/uri-list, GLFW accepts
// and fetches the list, Fyne hands the URI to the drop zone, the engine
// uploads the file (same bytes on the server), and the app announces it,
// copies its link, and lists it in its history and under Recent uploads
// in the tray menu.
// ZIPLINE_TRAY_TEST_SHOTS=dir keeps a capture of the drop zone there.
func TestDragAndDropOntoDropZone(t *testing.T) {
	s := newSession(t)
	srv := fakeServer(t)
	s.login(srv)
	const name = "dragged shot.png" // a space: file managers percent-encode it
	dir := s.path("home/Pictures")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dropImage(t, dir, name, 150)
	file := filepath.Join(dir, name)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	wantHash := hex.EncodeToString(sum[:])

	app := s.start()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	it, err := s.host.WaitItemPID(ctx, app.pid())
	if err != nil {
		t.Fatal(err)
	}
	if err := it.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := app.waitWindow(ctx, titleDropZone)
	if err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("ZIPLINE_TRAY_TEST_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	shot := filepath.Join(shots, "dropzone-after-drop.png")
	// Drop once the window draws, so Fyne has set up the window (and its
	// drop callback) and the mouse lands on content.
	if err := poll(ctx, "the drop zone to be drawn", func() (bool, error) {
		img, err := app.capture(ctx, id, shot)
		return err == nil && colours(img) >= 32, err
	}); err != nil {
		t.Fatal(err)
	}
	win, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		t.Fatalf("window id %q: %v", id, err)
	}
	geo, err := app.xdotool(ctx, "getwindowgeometry", "--shell", id)
	if err != nil {
		t.Fatal(err)
	}
	w, h := shellInt(geo, "WIDTH"), shellInt(geo, "HEIGHT")
	if w < 100 || h < 100 {
		t.Fatalf("drop zone geometry %q is too small to drop on", geo)
	}

	uri := (&url.URL{Scheme: "file", Path: file}).String() + "\r\n"
	res, err := xdndDrop(ctx, app.display, uint32(win), w/2, h/3, uri)
	if err != nil {
		t.Fatalf("XDND drop of %q: %v (so far: %+v)", uri, err, res)
	}
	if !res.Accepted || !slices.Equal(res.Requested, []string{"text/uri-list"}) || !res.Success || res.Action != "XdndActionCopy" {
		t.Fatalf("drop zone's XDND answers: %+v; want accepted, one text/uri-list request, finished with success and XdndActionCopy", res)
	}

	// The upload: the server has the same bytes under the file's name.
	note, err := s.host.WaitNotification(ctx, uploadNote(app))
	if err != nil {
		t.Fatal(err)
	}
	files := srv.Files()
	if len(files) != 1 {
		t.Fatalf("server has %d files after one drop, want 1 (notification: %s)", len(files), note)
	}
	got := files[0]
	if got.SHA256 != wantHash || got.Size != int64(len(raw)) {
		t.Errorf("server file %s: sha256 %s, %d bytes; want %s, %d bytes", got.Name, got.SHA256, got.Size, wantHash, len(raw))
	}
	if got.Filename != name {
		t.Errorf("server file's upload name = %q, want %q", got.Filename, name)
	}
	if !strings.Contains(note.Body, got.URL) {
		t.Errorf("notification body %q does not show the link %s", note.Body, got.URL)
	}

	// The app's history (over its control socket) and the tray menu list it.
	var hist []struct {
		Name, URL, Path, SHA256 string
	}
	if err := json.Unmarshal([]byte(s.run("", "history", "--json")), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].Path != file || hist[0].URL != got.URL || hist[0].SHA256 != wantHash {
		t.Errorf("app history = %+v; want one entry for %s with %s", hist, file, got.URL)
	}
	var clip string
	if err := poll(ctx, "the link on the clipboard", func() (bool, error) {
		var err error
		clip, err = app.clipboard(ctx)
		return strings.TrimSpace(clip) == got.URL, err
	}); err != nil {
		t.Errorf("%v: clipboard has %q, want %q", err, clip, got.URL)
	}
	if _, err := it.WaitMenu(ctx, func(m *traytest.MenuItem) bool {
		r := m.Find(menuRecent)
		return r != nil && r.Find(name) != nil
	}); err != nil {
		t.Error(err)
	}
	if _, err := app.capture(ctx, id, shot); err != nil {
		t.Error(err)
	}
}

// shellInt reads KEY=n from `xdotool ... --shell` output.
func shellInt(out, key string) int {
	for _, line := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}
