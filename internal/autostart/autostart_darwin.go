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

// entry is the login entry's content for exe.
func entry(exe string) []byte { return []byte(LaunchAgentPlist(exe)) }
