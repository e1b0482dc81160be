package app

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// swapWayland replaces the Wayland clipboard hooks for one test.
func swapWayland(t *testing.T, on bool, paste func(context.Context) (string, error), cp func(context.Context, string) error) {
	oldOn, oldPaste, oldCopy := onWayland, wlPaste, wlCopy
	t.Cleanup(func() { onWayland, wlPaste, wlCopy = oldOn, oldPaste, oldCopy })
	onWayland = func() bool { return on }
	if paste != nil {
		wlPaste = paste
	}
	if cp != nil {
		wlCopy = cp
	}
}

func TestCopyLinkWaylandFallback(t *testing.T) {
	var mu sync.Mutex
	var copied []string
	cp := func(_ context.Context, s string) error {
		mu.Lock()
		copied = append(copied, s)
		mu.Unlock()
		return nil
	}
	n := func() int { mu.Lock(); defer mu.Unlock(); return len(copied) }
	clip := "old"
	swapWayland(t, true, func(context.Context) (string, error) { return clip, nil }, cp)
	h := newHarness(t, signedIn())

	// Fyne's write did not reach the compositor: wl-copy sets it.
	h.ui.CopyLink("https://z.example.com/u/a.png")
	h.loop.until(t, "wl-copy", func() bool { return n() == 1 })
	if copied[0] != "https://z.example.com/u/a.png" || h.app.Clipboard().Content() != "https://z.example.com/u/a.png" {
		t.Errorf("copied %q, fyne %q", copied, h.app.Clipboard().Content())
	}
	// It did: nothing more runs. (wl-paste is asked; wait for that call.)
	asked := make(chan struct{})
	clip = "https://z.example.com/u/b.png"
	wlPaste = func(context.Context) (string, error) { close(asked); return clip, nil }
	h.ui.CopyLink(clip)
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("wl-paste not asked")
	}
	h.ui.Stop() // waits for the background check
	if n() != 1 {
		t.Errorf("wl-copy ran though the clipboard held the link: %q", copied)
	}
}

func TestCopyLinkWaylandFailureShown(t *testing.T) {
	swapWayland(t, true, func(context.Context) (string, error) { return "", errors.New("no wayland") },
		func(context.Context, string) error { return errors.New("wl-copy: not found") })
	h := newHarness(t, signedIn())
	h.ui.CopyLink("https://z.example.com/u/a.png")
	h.loop.until(t, "note", func() bool { return strings.Contains(h.ui.drop.noteLabel.Text, "could not be copied") })
}

func TestCopyLinkNotWayland(t *testing.T) {
	swapWayland(t, false, func(context.Context) (string, error) { panic("wl-paste on X11") },
		func(context.Context, string) error { panic("wl-copy on X11") })
	h := newHarness(t, signedIn())
	h.ui.CopyLink("https://z.example.com/u/a.png")
	h.ui.Stop()
}

// Against a real compositor: weston (as an X client on the test display:
// its headless backend has no seat, and wl-copy needs one) and
// wl-clipboard's tools. The test app's clipboard never reaches Wayland,
// exactly the case of a write that did not take.
func TestCopyLinkWeston(t *testing.T) {
	for _, tool := range []string{"weston", "wl-copy", "wl-paste"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install weston wl-clipboard)", tool)
		}
	}
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no X display for weston's x11 backend (scripts/testenv.sh provides one)")
	}
	run := t.TempDir()
	os.Chmod(run, 0o700)
	t.Setenv("XDG_RUNTIME_DIR", run)
	w := exec.Command("weston", "--backend=x11-backend.so", "--use-pixman", "--socket=wayland-zt", "--idle-time=0", "--no-config")
	log, _ := os.Create(filepath.Join(t.TempDir(), "weston.log"))
	w.Stdout, w.Stderr = log, log
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Process.Kill(); w.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(run, "wayland-zt")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("weston did not create its socket:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Setenv("WAYLAND_DISPLAY", "wayland-zt")
	swapWayland(t, true, nil, nil)
	h := newHarness(t, signedIn())
	link := "https://z.example.com/u/weston.png"
	h.ui.CopyLink(link)
	var got string
	h.loop.until(t, "the link on the Wayland clipboard", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		got, _ = wlPaste(ctx)
		return got == link
	})
}
