package auth

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestPathsHomeEnv(t *testing.T) {
	home := filepath.Join(t.TempDir(), "zt")
	t.Setenv(HomeEnv, home)
	p, err := DefaultPaths()
	if err != nil {
		t.Fatal(err)
	}
	if p.ConfigFile() != filepath.Join(home, "config.json") || p.StateDir != filepath.Join(home, "state") {
		t.Fatalf("paths under %s: %+v", HomeEnv, p)
	}
	if p.StateFile("queue.db") != filepath.Join(home, "state", "queue.db") || p.LogDir() != filepath.Join(home, "state", "logs") {
		t.Fatalf("state files: %s %s", p.StateFile("queue.db"), p.LogDir())
	}
	for _, d := range []string{p.ConfigDir, p.StateDir} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatalf("%s not created: %v", d, err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700", d, fi.Mode().Perm())
		}
	}
}

func TestPathsXDG(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG layout is for Linux and BSD")
	}
	root := t.TempDir()
	t.Setenv(HomeEnv, "")
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "cfg"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(root, "state"))
	p, err := DefaultPaths()
	if err != nil {
		t.Fatal(err)
	}
	if p.ConfigFile() != filepath.Join(root, "cfg", "zipline-tray", "config.json") ||
		p.StateDir != filepath.Join(root, "state", "zipline-tray") {
		t.Fatalf("XDG paths: %+v", p)
	}
	// No (or a relative) XDG_STATE_HOME: ~/.local/state.
	t.Setenv("XDG_STATE_HOME", "relative/dir")
	p, err = DefaultPaths()
	if err != nil {
		t.Fatal(err)
	}
	if p.StateDir != filepath.Join(root, "home", ".local", "state", "zipline-tray") {
		t.Fatalf("fallback state dir: %s", p.StateDir)
	}
}
