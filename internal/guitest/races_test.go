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

// fyne.io/systray stores a new icon into its property in place while
// godbus encodes the old one for a reply; we only called SetSystemTrayIcon.
const setIconRace = `==================
WARNING: DATA RACE
Write at 0x00c00209ea50 by main goroutine:
  reflect.typedmemmove()
      /usr/local/go/src/runtime/mbarrier.go:1 +0x1
  github.com/godbus/dbus/v5.setDest()
      /root/go/pkg/mod/github.com/godbus/dbus/v5@v5.2.4/dbus.go:1 +0x1
  fyne.io/systray.SetIcon()
      /root/go/pkg/mod/fyne.io/systray@v1.12.3/systray_unix.go:1 +0x1
  github.com/zipline-tray/zipline-tray/app.(*UI).refreshTray()
      /work/main/app/tray.go:132 +0x848

Previous read at 0x00c00209ea50 by goroutine 117:
  reflect.Value.Uint()
      /usr/local/go/src/reflect/value.go:1 +0x1
  github.com/godbus/dbus/v5.(*encoder).encode()
      /root/go/pkg/mod/github.com/godbus/dbus/v5@v5.2.4/encoder.go:1 +0x1
  github.com/godbus/dbus/v5.(*Conn).inWorker.gowrap1()
      /root/go/pkg/mod/github.com/godbus/dbus/v5@v5.2.4/conn.go:443 +0x38

Goroutine 117 (running) created at:
  github.com/godbus/dbus/v5.(*Conn).inWorker()
==================
`

// Two of our goroutines use a map-based library type at once.
const bothSidesRace = `==================
WARNING: DATA RACE
Write at 0x00c000 by goroutine 7:
  runtime.mapassign_faststr()
      /usr/local/go/src/runtime/map.go:1 +0x1
  example.com/lib.(*Cache).Put()
      /root/go/pkg/mod/example.com/lib/cache.go:1 +0x1
  github.com/zipline-tray/zipline-tray/uploader.(*Engine).finish()
      /work/main/uploader/engine.go:1 +0x1

Previous read at 0x00c000 by goroutine 9:
  runtime.mapaccess1_faststr()
      /usr/local/go/src/runtime/map.go:1 +0x1
  example.com/lib.(*Cache).Get()
      /root/go/pkg/mod/example.com/lib/cache.go:1 +0x1
  main.runGUI.func3()
      /work/main/gui.go:1 +0x1
==================
`

func TestRacesSplitsOursFromDependencies(t *testing.T) {
	for name, c := range map[string]struct {
		report string
		ours   bool
	}{
		"inside systray":            {systrayRace, false},
		"in our code":               {appRace, true},
		"systray property in place": {setIconRace, false},
		"our goroutines via a lib":  {bothSidesRace, true},
	} {
		if got := touchesOurCode(c.report); got != c.ours {
			t.Errorf("%s: ours = %v, want %v", name, got, c.ours)
		}
	}

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
