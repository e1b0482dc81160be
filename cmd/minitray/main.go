//go:build !nogui

// Command minitray is the smallest Fyne tray app: one icon, a menu with
// Quit, no window. scripts/bench-gui.sh runs it beside zipline-tray to
// measure the memory and CPU floor Fyne itself sets, so the app's own cost
// is the difference.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/zipline-tray/zipline-tray/assets"
)

func main() {
	a := app.NewWithID("io.github.zipline_tray.minitray")
	d, ok := a.(desktop.App)
	if !ok {
		panic("minitray: this driver has no system tray")
	}
	quit := fyne.NewMenuItem("Quit", a.Quit)
	quit.IsQuit = true
	d.SetSystemTrayMenu(fyne.NewMenu("minitray", quit))
	d.SetSystemTrayIcon(fyne.NewStaticResource("tray-idle.png", assets.TrayIdle))
	a.Run()
}
