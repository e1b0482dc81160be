package guitest

import (
	"strings"
	"testing"
)

const systrayRace = `==================
WARNING: DATA RACE
Write at 0x000001c219d8 by goroutine 86:
  fyne.io/systray.refresh()
      /root/go/pkg/mod/fyne.io/systray@v1.12.3/systray_menu_unix.go:496 +0x19e

Previous read at 0x000001c219d8 by goroutine 90:
  fyne.io/systray.(*tray).GetLayout()
      /root/go/pkg/mod/fyne.io/systray@v1.12.3/systray_menu_unix.go:92 +0x1d6

Goroutine 86 (running) created at:
  main.runGUI()
      /work/main/gui.go:150 +0x15a
==================
`

const appRace = `==================
WARNING: DATA RACE
Read at 0x00c000123 by goroutine 12:
  github.com/zipline-tray/zipline-tray/app.(*UI).State()
      /work/main/app/tray.go:60 +0x44

Previous write at 0x00c000123 by main goroutine:
  fyne.io/fyne/v2/internal/driver/glfw.(*gLDriver).Run()
      /root/go/pkg/mod/fyne.io/fyne/v2@v2.8.1/internal/driver/glfw/driver.go:1 +0x1

Goroutine 12 (running) created at:
  fyne.io/fyne/v2.Do()
==================
`

func TestRacesSplitsOursFromDependencies(t *testing.T) {
	out := "log line\n" + systrayRace + "more log\n" + appRace + "Found 2 data race(s)\n"
	ours, theirs := races(out)
	if len(ours) != 1 || !strings.Contains(ours[0], "app.(*UI).State") {
		t.Errorf("ours = %q", ours)
	}
	// A goroutine created in main does not make a systray-internal race ours.
	if len(theirs) != 1 || !strings.Contains(theirs[0], "systray.refresh") {
		t.Errorf("theirs = %q", theirs)
	}
	if o, th := races("no races here\n"); len(o)+len(th) != 0 {
		t.Errorf("races in clean output: %q %q", o, th)
	}
}
