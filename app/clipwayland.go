package app

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/clipboard"
)

// On Wayland a client may set the clipboard only with the serial of a
// recent input event on one of its surfaces, so Fyne's write from a tray
// app (or after an upload nobody clicked) may silently not take. After
// each copy the compositor's clipboard is read back with wl-paste and, if
// it does not hold the text, wl-copy sets it. Swappable in tests.
var (
	wlPaste = func(ctx context.Context) (string, error) {
		out, err := exec.CommandContext(ctx, "wl-paste", "--no-newline", "--type", "text/plain").Output()
		return string(out), err
	}
	wlCopy    = clipboard.Copy // wl-copy when WAYLAND_DISPLAY is set
	onWayland = func() bool { return os.Getenv("WAYLAND_DISPLAY") != "" }
)

// ensureClipboard checks off the UI goroutine that text reached the
// Wayland clipboard and copies it with wl-copy if not. UI goroutine.
func (u *UI) ensureClipboard(text string) {
	if !onWayland() {
		return
	}
	u.goBackground(func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if got, err := wlPaste(ctx); err == nil && strings.TrimRight(got, "\n") == text {
			return nil
		}
		if err := wlCopy(ctx, text); err != nil {
			u.log.Warn("copy with wl-copy", "err", err)
			return func() { u.dropNote("The link could not be copied: " + err.Error()) }
		}
		return nil
	})
}
