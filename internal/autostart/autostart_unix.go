//go:build !darwin && !windows

package autostart

import (
	"fmt"
	"os"
	"path/filepath"
)

// Path is the XDG autostart file: $XDG_CONFIG_HOME/autostart (default
// ~/.config/autostart)/zipline-tray.desktop.
func Path() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) { // the spec says to ignore a relative value
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("autostart: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "autostart", Name+".desktop"), nil
}

// entry is the login entry's content for exe.
func entry(exe string) []byte { return []byte(DesktopEntry(exe)) }
