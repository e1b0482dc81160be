//go:build darwin

package uploader

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// defaultFolders: the location set in the Screenshot app (stored in
// com.apple.screencapture), else the Desktop.
func defaultFolders() []DefaultFolder {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "defaults", "read", "com.apple.screencapture", "location").Output()
	if loc := strings.TrimSpace(string(out)); err == nil && loc != "" {
		if loc == "~" || strings.HasPrefix(loc, "~/") {
			loc = filepath.Join(home, loc[1:])
		}
		if filepath.IsAbs(loc) {
			return []DefaultFolder{{Path: filepath.Clean(loc), Source: "macOS Screenshot location (defaults read com.apple.screencapture location)"}}
		}
	}
	return []DefaultFolder{{Path: filepath.Join(home, "Desktop"), Source: "macOS default (Desktop; no custom screenshot location set)"}}
}
