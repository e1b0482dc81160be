package app

import (
	"context"

	"github.com/zipline-tray/zipline-tray/internal/autostart"
)

// Start at login, for the settings window's checkbox (config.json's
// "autostart"). Swappable in tests.
var (
	autostartExe     = autostart.Executable
	autostartEnable  = autostart.Enable
	autostartDisable = autostart.Disable
)

// ApplyAutostart adds or removes the login entry off the UI goroutine; a
// failure shows in the drop zone and done (if set) gets the error on the
// UI goroutine. Call it after saving a changed Autostart setting.
func (u *UI) ApplyAutostart(on bool, done func(error)) {
	u.goBackground(func(context.Context) func() {
		var err error
		if on {
			var exe string
			if exe, err = autostartExe(); err == nil {
				err = autostartEnable(exe)
			}
		} else {
			err = autostartDisable()
		}
		return func() {
			if err != nil {
				u.log.Warn("autostart", "on", on, "err", err)
				what := "turn off"
				if on {
					what = "turn on"
				}
				u.dropNote("Could not " + what + " starting at login: " + err.Error())
			}
			if done != nil {
				done(err)
			}
		}
	})
}
