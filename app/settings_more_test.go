//go:build linux

package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// The Folders tab offers the system's screenshot folders that are not
// watched yet, found here from a Flameshot config under a fake home.
func TestSettingsSuggestedFolders(t *testing.T) {
	home, conf := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", conf)
	t.Setenv("XDG_PICTURES_DIR", "")
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "C")
	shots := filepath.Join(home, "Shots")
	os.MkdirAll(shots, 0o755)
	os.MkdirAll(filepath.Join(conf, "flameshot"), 0o755)
	if err := os.WriteFile(filepath.Join(conf, "flameshot", "flameshot.ini"), []byte("[General]\nsavePath="+shots+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	h := newHarness(t, signedIn())
	h.ui.ShowSettings()
	s := h.ui.settingsWin
	texts := labelTexts(s.suggested)
	for _, want := range []string{"Suggested", "~/Shots", "Flameshot (savePath in " + filepath.Join(conf, "flameshot", "flameshot.ini") + ")", "~/Pictures/Screenshots"} {
		if !slices.Contains(texts, want) {
			t.Errorf("suggestions lack %q: %q", want, texts)
		}
	}

	add := addButtonFor(t, s, "~/Shots")
	test.Tap(add)
	if n := len(s.cfg.Watch.Folders); n != 1 || s.cfg.Watch.Folders[0].Path != shots {
		t.Fatalf("folders after Add = %+v", s.cfg.Watch.Folders)
	}
	if !strings.Contains(test.RenderObjectToMarkup(s.folders), "~/Shots") {
		t.Error("the added folder is not in the watched list")
	}
	if slices.Contains(labelTexts(s.suggested), "~/Shots") {
		t.Error("a watched folder is still suggested")
	}
	s.save()
	if c, _ := h.settings.Load(); len(c.Watch.Folders) != 1 || c.Watch.Folders[0].Path != shots {
		t.Errorf("saved folders = %+v", c.Watch.Folders)
	}
}

// labelTexts lists the texts of the labels in o.
func labelTexts(o fyne.CanvasObject) []string {
	switch o := o.(type) {
	case *widget.Label:
		return []string{o.Text}
	case *fyne.Container:
		var out []string
		for _, c := range o.Objects {
			out = append(out, labelTexts(c)...)
		}
		return out
	}
	return nil
}

// addButtonFor finds the Add button on the suggestion row showing label.
func addButtonFor(t *testing.T, s *settingsWindow, label string) *widget.Button {
	t.Helper()
	for _, row := range s.suggested.Objects {
		if !slices.Contains(labelTexts(row), label) {
			continue
		}
		var found *widget.Button
		var walk func(o fyne.CanvasObject)
		walk = func(o fyne.CanvasObject) {
			switch o := o.(type) {
			case *widget.Button:
				if o.Text == "Add" {
					found = o
				}
			case *fyne.Container:
				for _, c := range o.Objects {
					walk(c)
				}
			}
		}
		walk(row)
		if found != nil {
			return found
		}
	}
	t.Fatalf("no Add button beside %q", label)
	return nil
}

func TestSettingsAutostartCheckbox(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	old := autostartExe
	t.Cleanup(func() { autostartExe = old })
	autostartExe = func() (string, error) { return "/opt/zipline-tray/zipline-tray", nil }
	var enables atomic.Int32
	oldEnable := autostartEnable
	t.Cleanup(func() { autostartEnable = oldEnable })
	autostartEnable = func(exe string) error { enables.Add(1); return oldEnable(exe) }
	entry := filepath.Join(xdg, "autostart", "zipline-tray.desktop")
	exists := func() bool { _, err := os.Stat(entry); return err == nil }

	h := newHarness(t, signedIn())
	h.ui.ShowSettings()
	s := h.ui.settingsWin
	if s.autostart.Checked || s.autostart.Text != "Start Zipline Tray when I log in" {
		t.Fatalf("checkbox %q checked=%v", s.autostart.Text, s.autostart.Checked)
	}
	test.Tap(s.autostart)
	if exists() {
		t.Fatal("the login entry was written before Save")
	}
	s.save()
	h.loop.until(t, "the autostart entry", exists)
	if b, _ := os.ReadFile(entry); !strings.Contains(string(b), "Exec=/opt/zipline-tray/zipline-tray\n") {
		t.Errorf("entry = %q", b)
	}
	if c, _ := h.settings.Load(); !c.Autostart {
		t.Error("autostart not saved")
	}

	// Saving again without a change leaves the entry alone.
	s.save()
	test.Tap(s.autostart)
	s.save()
	h.loop.until(t, "the entry removed", func() bool { return !exists() })
	if n := enables.Load(); n != 1 {
		t.Errorf("the login entry was written %d times, want once", n)
	}
	if c, _ := h.settings.Load(); c.Autostart {
		t.Error("autostart still saved as on")
	}

	// Failure: the autostart folder is a file. The box unchecks, the saved
	// setting goes back to off, and the message says what went wrong.
	os.RemoveAll(filepath.Join(xdg, "autostart"))
	os.WriteFile(filepath.Join(xdg, "autostart"), nil, 0o600)
	test.Tap(s.autostart)
	s.save()
	h.loop.until(t, "the box unchecked", func() bool { return !s.autostart.Checked })
	if !strings.Contains(s.message.Text, "Could not turn on starting at login") {
		t.Errorf("message = %q", s.message.Text)
	}
	if c, _ := h.settings.Load(); c.Autostart {
		t.Error("a failed autostart stays saved as on")
	}
}
