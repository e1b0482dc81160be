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

// uninstallEnv is a signed-in profile with state, a login entry and a
// token in the store.
func uninstallEnv(t *testing.T, stdin string) (*testEnv, string) {
	t.Helper()
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	te := newTestEnv(t, stdin, nil)
	root := t.TempDir()
	te.Paths = auth.Paths{ConfigDir: filepath.Join(root, "config", "zipline-tray"), StateDir: filepath.Join(root, "state", "zipline-tray")}
	te.Paths.Ensure()
	cfg := auth.Defaults()
	cfg.Server, cfg.Username = "https://z.example", "alice"
	if err := cfg.Save(te.Paths.ConfigFile()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(te.Paths.StateFile("history.db"), []byte("x"), 0o600)
	te.store.Set("https://z.example", "alice", "tok-123456")
	if err := autostart.Enable("/usr/bin/zipline-tray"); err != nil {
		t.Fatal(err)
	}
	return te, root
}

func TestUninstallYes(t *testing.T) {
	te, root := uninstallEnv(t, "")
	if code := te.run("uninstall", "--yes"); code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, te.err)
	}
	for _, p := range []string{te.Paths.ConfigDir, te.Paths.StateDir} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("the parent folder went too: %v", err)
	}
	if te.store.Len() != 0 {
		t.Error("token still in the store")
	}
	if on, _ := autostart.Enabled(); on {
		t.Error("login entry still there")
	}
	if !strings.Contains(te.out.String(), "token of alice on https://z.example") {
		t.Errorf("stdout: %s", te.out)
	}
}

func TestUninstallAsks(t *testing.T) {
	// No terminal and no --yes: refused, nothing touched.
	te, _ := uninstallEnv(t, "")
	if code := te.run("uninstall"); code != ExitUsage {
		t.Fatalf("exit %d", code)
	}
	if te.store.Len() != 1 {
		t.Error("token removed without confirmation")
	}
	// A terminal answering no.
	te, _ = uninstallEnv(t, "n\n")
	te.StdinIsTerminal = true
	if code := te.run("uninstall"); code != ExitOK || !strings.Contains(te.out.String(), "Nothing removed") {
		t.Fatalf("exit %d, %s", code, te.out)
	}
	if _, err := os.Stat(te.Paths.ConfigFile()); err != nil || te.store.Len() != 1 {
		t.Errorf("something removed after 'no': %v", err)
	}
	if on, _ := autostart.Enabled(); !on {
		t.Error("login entry removed after 'no'")
	}
	if !strings.Contains(te.err.String(), "Continue? [y/N]") || !strings.Contains(te.err.String(), "history and logs") {
		t.Errorf("question: %s", te.err)
	}
	// Yes.
	te, _ = uninstallEnv(t, "y\n")
	te.StdinIsTerminal = true
	if code := te.run("uninstall"); code != ExitOK {
		t.Fatalf("exit %d; %s", code, te.err)
	}
	if _, err := os.Stat(te.Paths.ConfigDir); !os.IsNotExist(err) || te.store.Len() != 0 {
		t.Errorf("not removed after 'y': %v", err)
	}
}

// A $ZIPLINE_TRAY_HOME the user chose keeps its other files.
func TestUninstallCustomHomeKeepsOtherFiles(t *testing.T) {
	te, _ := uninstallEnv(t, "")
	home := t.TempDir()
	te.Paths = auth.Paths{ConfigDir: home, StateDir: filepath.Join(home, "state")}
	te.Paths.Ensure()
	auth.Defaults().Save(te.Paths.ConfigFile())
	mine := filepath.Join(home, "notes.txt")
	os.WriteFile(mine, []byte("keep"), 0o600)
	te.Config = nil
	if code := te.run("uninstall", "--yes"); code != ExitOK {
		t.Fatalf("exit %d; %s", code, te.err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file of the user went: %v", err)
	}
	for _, p := range []string{te.Paths.ConfigFile(), te.Paths.StateDir} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there", p)
		}
	}
}
