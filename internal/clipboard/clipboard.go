// Package clipboard puts text on the system clipboard through the
// platform's own tool (wl-copy, xclip, xsel, pbcopy, clip.exe), for
// programs that do not run a GUI toolkit.
package clipboard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
)

// ErrNoTool means no clipboard tool was found for this session.
var ErrNoTool = errors.New("no clipboard tool found")

// Tool is a clipboard command line.
type Tool struct {
	Path string
	Args []string

	sysProcAttr *syscall.SysProcAttr // tests: own process group
	started     func(pid int)        // tests: told the tool's pid
}

// Find picks the clipboard tool for goos with the given environment and
// PATH lookup: wl-copy on Wayland, xclip or xsel on X11 (also the fallback
// under XWayland), pbcopy on macOS, clip.exe on Windows and WSL.
func Find(goos string, getenv func(string) string, lookPath func(string) (string, error)) (Tool, error) {
	try := func(name string, args ...string) (Tool, bool) {
		p, err := lookPath(name)
		if err != nil {
			return Tool{}, false
		}
		return Tool{Path: p, Args: args}, true
	}
	switch goos {
	case "darwin":
		if t, ok := try("pbcopy"); ok {
			return t, nil
		}
		return Tool{}, fmt.Errorf("%w: pbcopy is missing from PATH", ErrNoTool)
	case "windows":
		if t, ok := try("clip.exe"); ok {
			return t, nil
		}
		return Tool{}, fmt.Errorf("%w: clip.exe is missing from PATH", ErrNoTool)
	}
	if getenv("WAYLAND_DISPLAY") != "" {
		if t, ok := try("wl-copy"); ok {
			return t, nil
		}
	}
	if getenv("DISPLAY") != "" {
		if t, ok := try("xclip", "-selection", "clipboard", "-in"); ok {
			return t, nil
		}
		if t, ok := try("xsel", "--clipboard", "--input"); ok {
			return t, nil
		}
	}
	if t, ok := try("clip.exe"); ok { // WSL
		return t, nil
	}
	switch {
	case getenv("WAYLAND_DISPLAY") != "":
		return Tool{}, fmt.Errorf("%w: install wl-clipboard (wl-copy)", ErrNoTool)
	case getenv("DISPLAY") != "":
		return Tool{}, fmt.Errorf("%w: install xclip or xsel", ErrNoTool)
	}
	return Tool{}, fmt.Errorf("%w: no graphical session (neither WAYLAND_DISPLAY nor DISPLAY is set)", ErrNoTool)
}

// Copy puts text on the clipboard. On X11 and Wayland the tool keeps
// running in the background to serve the selection after this program
// exits; Copy returns once the tool has taken the selection.
func Copy(ctx context.Context, text string) error {
	t, err := Find(runtime.GOOS, os.Getenv, exec.LookPath)
	if err != nil {
		return err
	}
	return t.Copy(ctx, text)
}

// Copy runs the tool with text on its standard input.
func (t Tool) Copy(ctx context.Context, text string) error {
	cmd := exec.CommandContext(ctx, t.Path, t.Args...)
	cmd.Stdin = strings.NewReader(text)
	cmd.SysProcAttr = t.sysProcAttr
	// xclip, xsel and wl-copy fork a child that owns the selection and
	// keeps our stdout/stderr open; with a pipe, Wait would block until
	// the selection changes hands. A file does not have that problem.
	errf, err := os.CreateTemp("", "zipline-tray-clip-*")
	if err != nil {
		return fmt.Errorf("copy to clipboard: %w", err)
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	cmd.Stderr = errf
	err = cmd.Start()
	if err == nil {
		if t.started != nil {
			t.started(cmd.Process.Pid)
		}
		err = cmd.Wait()
	}
	if err != nil {
		msg, _ := os.ReadFile(errf.Name())
		if m := strings.TrimSpace(string(msg)); m != "" {
			return fmt.Errorf("copy to clipboard with %s: %w: %s", t.Path, err, m)
		}
		return fmt.Errorf("copy to clipboard with %s: %w", t.Path, err)
	}
	return nil
}
