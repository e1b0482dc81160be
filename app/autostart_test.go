//go:build linux

package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestApplyAutostart(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	old := autostartExe
	t.Cleanup(func() { autostartExe = old })
	autostartExe = func() (string, error) { return "/opt/zipline tray/zipline-tray", nil }
	entry := filepath.Join(xdg, "autostart", "zipline-tray.desktop")

	h := newHarness(t, signedIn())
	var got []error
	h.ui.ApplyAutostart(true, func(err error) { got = append(got, err) })
	h.loop.until(t, "enabled", func() bool { return len(got) == 1 })
	b, err := os.ReadFile(entry)
	if got[0] != nil || err != nil || !strings.Contains(string(b), `Exec="/opt/zipline tray/zipline-tray"`) {
		t.Fatalf("enable: %v, %v, %q", got[0], err, b)
	}
	h.ui.ApplyAutostart(false, func(err error) { got = append(got, err) })
	h.loop.until(t, "disabled", func() bool { return len(got) == 2 })
	if _, err := os.Stat(entry); got[1] != nil || !os.IsNotExist(err) {
		t.Errorf("disable: %v, entry %v", got[1], err)
	}

	// A failure is shown, not swallowed: the autostart folder is a file.
	os.RemoveAll(filepath.Join(xdg, "autostart"))
	os.WriteFile(filepath.Join(xdg, "autostart"), nil, 0o600)
	h.ui.ApplyAutostart(true, func(err error) { got = append(got, err) })
	h.loop.until(t, "failed", func() bool { return len(got) == 3 })
	if got[2] == nil || !strings.Contains(h.ui.drop.noteLabel.Text, "Could not turn on starting at login") {
		t.Errorf("err %v, note %q", got[2], h.ui.drop.noteLabel.Text)
	}
}
