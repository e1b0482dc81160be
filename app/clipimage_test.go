package app

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestReadClipboardImageX11 puts a PNG on a real X clipboard (Xvfb in
// scripts/testenv.sh) with xclip and reads it back as a file.
func TestReadClipboardImageX11(t *testing.T) {
	if os.Getenv("DISPLAY") == "" || os.Getenv("WAYLAND_DISPLAY") != "" {
		t.Skip("needs an X display: run inside scripts/testenv.sh")
	}
	xclip, err := exec.LookPath("xclip")
	if err != nil {
		t.Skip("xclip not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	own := func(target string, data []byte) {
		t.Helper()
		// -quiet keeps xclip in the foreground, so the test can end it.
		cmd := exec.CommandContext(ctx, xclip, "-quiet", "-selection", "clipboard", "-t", target, "-i")
		cmd.Stdin = bytes.NewReader(data)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		// Wait until the selection is owned: TARGETS answers.
		for ctx.Err() == nil {
			out, _ := exec.CommandContext(ctx, xclip, "-selection", "clipboard", "-t", "TARGETS", "-o").Output()
			if bytes.Contains(out, []byte(target)) {
				return
			}
		}
		t.Fatal("xclip never owned the clipboard")
	}

	var buf bytes.Buffer
	png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 3, 2)))
	own("image/png", buf.Bytes())
	dir := filepath.Join(t.TempDir(), "clip")
	path, err := ReadClipboardImage(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(path) != dir {
		t.Errorf("saved to %s, want in %s", path, dir)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("saved image differs (%v)", err)
	}

	own("UTF8_STRING", []byte("just text"))
	if _, err := ReadClipboardImage(ctx, dir); !errors.Is(err, ErrNoClipboardImage) {
		t.Fatalf("text on the clipboard: err = %v, want ErrNoClipboardImage", err)
	}
}
