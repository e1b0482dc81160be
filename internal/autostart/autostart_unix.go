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

// Enable starts exe at every login.
func Enable(exe string) error {
	if err := checkExe(exe); err != nil {
		return err
	}
	p, err := Path()
	if err != nil {
		return err
	}
	return writeEntry(p, []byte(DesktopEntry(exe)))
}

// Disable removes the login entry; it is not an error if there is none.
func Disable() error {
	p, err := Path()
	if err != nil {
		return err
	}
	return removeEntry(p)
}

// Enabled reports whether the login entry exists.
func Enabled() (bool, error) {
	p, err := Path()
	if err != nil {
		return false, err
	}
	return exists(p)
}
