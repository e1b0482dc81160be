//go:build !darwin && !windows

package autostart

import (
	"os"
	"path/filepath"
	"testing"
)

func TestXDGEnableDisable(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	file := filepath.Join(cfg, "autostart", "zipline-tray.desktop")
	if p, _ := Path(); p != file {
		t.Fatalf("Path = %s, want %s", p, file)
	}
	if on, err := Enabled(); on || err != nil {
		t.Fatalf("Enabled before = %v, %v", on, err)
	}
	exe := "/home/a b/.local/bin/zipline-tray"
	if err := Enable(exe); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != DesktopEntry(exe) {
		t.Errorf("file = %q", got)
	}
	if on, err := Enabled(); !on || err != nil {
		t.Errorf("Enabled after Enable = %v, %v", on, err)
	}
	// Enabling again replaces the entry (a moved binary).
	if err := Enable("/usr/bin/zipline-tray"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(file); string(got) != DesktopEntry("/usr/bin/zipline-tray") {
		t.Errorf("not replaced: %q", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Errorf("autostart folder holds %d files (temp files left?)", len(entries))
	}
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("file still there: %v", err)
	}
	if on, _ := Enabled(); on {
		t.Error("Enabled after Disable")
	}
	if err := Disable(); err != nil {
		t.Errorf("second Disable: %v", err)
	}
}

func TestXDGRelativeConfigHomeIgnored(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "relative/dir")
	if p, _ := Path(); p != filepath.Join(home, ".config", "autostart", "zipline-tray.desktop") {
		t.Errorf("Path = %s", p)
	}
}
