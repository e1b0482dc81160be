package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ErrNoClipboardImage means the clipboard holds no image.
var ErrNoClipboardImage = errors.New("there is no image on the clipboard; copy a screenshot first")

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// ReadClipboardImage saves the PNG image on the clipboard to a new file in
// dir and returns its path. Fyne's clipboard is text-only, so on Linux it
// asks wl-paste (Wayland) or xclip (X11).
func ReadClipboardImage(ctx context.Context, dir string) (string, error) {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return "", fmt.Errorf("reading images from the clipboard is not supported on %s yet; save the image and drop the file", runtime.GOOS)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var tries [][]string
	if os.Getenv("WAYLAND_DISPLAY") != "" {
		tries = append(tries, []string{"wl-paste", "--no-newline", "--type", "image/png"})
	}
	if os.Getenv("DISPLAY") != "" {
		tries = append(tries, []string{"xclip", "-selection", "clipboard", "-t", "image/png", "-o"})
	}
	if len(tries) == 0 {
		return "", errors.New("no display to read the clipboard from")
	}
	var missing []string
	for _, t := range tries {
		if _, err := exec.LookPath(t[0]); err != nil {
			missing = append(missing, t[0])
			continue
		}
		var out, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, t[0], t[1:]...)
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil || !bytes.HasPrefix(out.Bytes(), pngMagic) {
			continue
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("save clipboard image: %w", err)
		}
		path := filepath.Join(dir, "clipboard-"+time.Now().Format("2006-01-02_15-04-05")+".png")
		if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
			return "", fmt.Errorf("save clipboard image: %w", err)
		}
		return path, nil
	}
	if len(missing) == len(tries) {
		return "", fmt.Errorf("install %s to upload images from the clipboard", strings.Join(missing, " or "))
	}
	return "", ErrNoClipboardImage
}

// UploadClipboardImage uploads the image on the clipboard, saying so
// clearly when there is none.
func (u *UI) UploadClipboardImage() {
	u.ShowDropZone()
	dir := filepath.Join(u.opts.StateDir, "clipboard")
	u.goBackground(func(ctx context.Context) func() {
		path, err := u.opts.ClipboardImage(ctx, dir)
		if err != nil {
			return func() { u.dropNote(capitalize(err.Error()) + ".") }
		}
		u.enqueue([]string{path})
		return u.dropHideNote
	})
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
