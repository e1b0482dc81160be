// Package autostart starts zipline-tray when the user logs in: an XDG
// autostart .desktop file on Linux and other Unix desktops, a LaunchAgent
// on macOS, a value under HKCU\...\CurrentVersion\Run on Windows.
//
// Enable(exe), Disable and Enabled act on the current user only and need
// no privileges. The text generators here are OS-independent so every
// platform's format is tested on any machine.
package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const (
	// Name names the entry: the .desktop file and the Run value.
	Name = "zipline-tray"
	// Label is the LaunchAgent label (reverse DNS, as the app id).
	Label = "io.github.zipline_tray"
)

// ErrBadPath: the executable path cannot be written into a login entry.
var ErrBadPath = errors.New("autostart: the program path must be absolute and on one line")

func checkExe(exe string) error {
	if exe == "" || !filepath.IsAbs(exe) || strings.ContainsAny(exe, "\n\r\x00") {
		return fmt.Errorf("%w: %q", ErrBadPath, exe)
	}
	return nil
}

// Executable is the absolute path of the running program with symlinks
// resolved, the usual argument to Enable.
func Executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("autostart: find this program: %w", err)
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	return exe, nil
}

// DesktopEntry is the XDG autostart file that runs exe.
func DesktopEntry(exe string) string {
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=Zipline Tray\n" +
		"Comment=Upload screenshots and files to your Zipline server\n" +
		"Exec=" + desktopExec(exe) + "\n" +
		"Icon=zipline-tray\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n"
}

// desktopExec quotes one program path for an Exec key: the Desktop Entry
// spec's argument quoting, then its string escaping, then % doubling.
func desktopExec(exe string) string {
	arg := exe
	if strings.ContainsAny(exe, " \t\"'\\><~|&;$*?#()`") {
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range exe {
			if strings.ContainsRune("\"`$\\", r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
		arg = b.String()
	}
	arg = strings.ReplaceAll(arg, `\`, `\\`) // the value is a string: escape again
	return strings.ReplaceAll(arg, "%", "%%")
}

// LaunchAgentPlist is the macOS LaunchAgent that runs exe at login.
func LaunchAgentPlist(exe string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + Label + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + xmlEscape(exe) + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
</dict>
</plist>
`
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

// RunValue is the command line stored in the Windows Run key: the path
// always quoted, since it often holds spaces ("C:\Program Files\...").
func RunValue(exe string) string {
	return `"` + exe + `"`
}

// writeEntry writes data to path atomically, creating the folder.
func writeEntry(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("autostart: write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("autostart: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("autostart: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}

// removeEntry removes path; a missing file is not an error.
func removeEntry(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("autostart: %w", err)
	}
	return true, nil
}
