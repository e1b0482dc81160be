//go:build linux

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/internal/autostart"
)

func TestAutostartOnOffStatus(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	entry := filepath.Join(xdg, "autostart", "zipline-tray.desktop")
	exe := "/opt/zipline tray/zipline-tray"

	te := newTestEnv(t, "", nil)
	if code := te.run("autostart", "status"); code != ExitOK || !strings.Contains(te.out.String(), "does not start at login") {
		t.Fatalf("status before: exit %d, %s%s", code, te.out, te.err)
	}
	te.out.Reset()
	if code := te.run("autostart", "on", "--exe", exe); code != ExitOK {
		t.Fatalf("on: exit %d, %s", code, te.err)
	}
	got, err := os.ReadFile(entry)
	if err != nil || string(got) != autostart.DesktopEntry(exe) {
		t.Fatalf("entry = %q, %v", got, err)
	}
	if !strings.Contains(string(got), "Exec=\"/opt/zipline tray/zipline-tray\"\n") {
		t.Errorf("Exec line not quoted: %s", got)
	}
	cfg, err := auth.LoadConfig(te.Paths.ConfigFile())
	if err != nil || !cfg.Autostart {
		t.Errorf("config autostart = %v, %v", cfg != nil && cfg.Autostart, err)
	}
	te.out.Reset()
	if code := te.run("autostart", "status"); code != ExitOK || !strings.Contains(te.out.String(), "starts at login ("+entry+")") {
		t.Errorf("status after on: exit %d, %s", code, te.out)
	}
	te.out.Reset()
	if code := te.run("autostart", "off"); code != ExitOK {
		t.Fatalf("off: exit %d, %s", code, te.err)
	}
	if _, err := os.Stat(entry); !os.IsNotExist(err) {
		t.Errorf("entry still there: %v", err)
	}
	cfg, _ = auth.LoadConfig(te.Paths.ConfigFile())
	if cfg.Autostart {
		t.Error("config still says autostart")
	}
}

func TestAutostartUsage(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, args := range [][]string{{"autostart"}, {"autostart", "maybe"}, {"autostart", "on", "off"}} {
		te := newTestEnv(t, "", nil)
		if code := te.run(args...); code != ExitUsage {
			t.Errorf("%q: exit %d", args, code)
		}
	}
}
