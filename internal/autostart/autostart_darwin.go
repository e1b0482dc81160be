package autostart

import (
	"fmt"
	"os"
	"path/filepath"
)

// Path is the LaunchAgent: ~/Library/LaunchAgents/io.github.zipline_tray.plist.
// launchd reads it at the next login; it is not loaded now (the app is
// already running when the user turns this on).
func Path() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("autostart: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", Label+".plist"), nil
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
	return writeEntry(p, []byte(LaunchAgentPlist(exe)))
}

// Disable removes the LaunchAgent; it is not an error if there is none.
func Disable() error {
	p, err := Path()
	if err != nil {
		return err
	}
	return removeEntry(p)
}

// Enabled reports whether the LaunchAgent exists.
func Enabled() (bool, error) {
	p, err := Path()
	if err != nil {
		return false, err
	}
	return exists(p)
}
