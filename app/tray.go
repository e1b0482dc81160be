package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/zipline-tray/zipline-tray/assets"
)

// Tray menu labels, stable for tests and the tray harness.
const (
	MenuSignInAgain     = "Sign in again…"
	MenuNotSignedIn     = "Not signed in"
	MenuUploadFiles     = "Upload files…"
	MenuUploadClipboard = "Upload clipboard image"
	MenuDropZone        = "Open drop zone"
	MenuRecent          = "Recent uploads"
	MenuNoRecent        = "No uploads yet"
	MenuPause           = "Pause watching"
	MenuResume          = "Resume watching"
	MenuQueue           = "Queue & history…"
	MenuSettings        = "Settings…"
	MenuSignIn          = "Sign in…"
	MenuSignOut         = "Sign out"
	MenuAbout           = "About"
	MenuQuit            = "Quit"
)

// recentInMenu is how many recent uploads the tray menu lists.
const recentInMenu = 5

// TrayState is what the tray icon shows.
type TrayState int

// Tray states.
const (
	TrayIdle TrayState = iota
	TrayUploading
	TrayPaused
	TraySignIn
)

var trayIcons = map[TrayState]fyne.Resource{
	TrayIdle:      fyne.NewStaticResource("tray-idle.png", assets.TrayIdle),
	TrayUploading: fyne.NewStaticResource("tray-uploading.png", assets.TrayUploading),
	TrayPaused:    fyne.NewStaticResource("tray-paused.png", assets.TrayPaused),
	TraySignIn:    fyne.NewStaticResource("tray-signin.png", assets.TraySignIn),
}

// AppIcon is the application icon.
var AppIcon = fyne.NewStaticResource("icon.png", assets.Icon)

// TrayMenu is the menu last given to the tray (also kept when there is no
// tray, for tests).
func (u *UI) TrayMenu() *fyne.Menu { return u.trayMenu }

// State is the tray icon's state.
func (u *UI) State() TrayState {
	switch {
	case u.authFailed || u.user == "" && !u.checking:
		return TraySignIn
	case u.uploading() > 0:
		return TrayUploading
	case u.paused:
		return TrayPaused
	}
	return TrayIdle
}

func (u *UI) uploading() int {
	n := 0
	for _, j := range u.jobs {
		if j.State != StateFailed {
			n++
		}
	}
	return n
}

// status is the first line of the menu.
func (u *UI) status() string {
	switch {
	case u.authFailed:
		return MenuSignInAgain
	case u.user == "" && u.checking:
		return "Checking the saved sign-in…"
	case u.user == "":
		return MenuNotSignedIn
	}
	var parts []string
	if n := u.uploading(); n > 0 {
		parts = append(parts, plural(n, "upload", "uploads")+" in progress")
	}
	if u.paused {
		parts = append(parts, "Paused")
	}
	parts = append(parts, fmt.Sprintf("Signed in as %s on %s", u.user, host(u.server)))
	return strings.Join(parts, " · ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// refreshTray rebuilds the tray menu and icon when what they show changed.
func (u *UI) refreshTray() {
	state := u.State()
	key := fmt.Sprint(u.status(), u.paused, u.user, u.authFailed, len(u.recent))
	for i, r := range u.recent {
		if i == recentInMenu {
			break
		}
		key += r.ID
	}
	d, hasTray := u.app.(desktop.App)
	if key != u.trayKey {
		u.trayKey = key
		u.trayMenu = u.buildMenu()
		if hasTray {
			d.SetSystemTrayMenu(u.trayMenu)
		}
	}
	if icon := trayIcons[state]; icon != u.trayIcon {
		u.trayIcon = icon
		if hasTray {
			d.SetSystemTrayIcon(icon)
		}
	}
}

func (u *UI) buildMenu() *fyne.Menu {
	first := fyne.NewMenuItem(u.status(), nil)
	if u.authFailed {
		first.Action = u.ShowSignIn
	} else {
		first.Disabled = true
	}

	var recent []*fyne.MenuItem
	for i, r := range u.recent {
		if i == recentInMenu {
			break
		}
		link := r.URL
		recent = append(recent, fyne.NewMenuItem(r.Name, func() { u.CopyLink(link) }))
	}
	if len(recent) == 0 {
		none := fyne.NewMenuItem(MenuNoRecent, nil)
		none.Disabled = true
		recent = append(recent, none)
	}
	recentItem := fyne.NewMenuItem(MenuRecent, nil)
	recentItem.ChildMenu = fyne.NewMenu("", recent...)

	pause := fyne.NewMenuItem(MenuPause, u.TogglePause)
	if u.paused {
		pause.Label = MenuResume
	}
	account := fyne.NewMenuItem(MenuSignIn, u.ShowSignIn)
	if u.user != "" && !u.authFailed {
		account = fyne.NewMenuItem(MenuSignOut, u.SignOut)
	}
	quit := fyne.NewMenuItem(MenuQuit, u.Quit)
	quit.IsQuit = true

	return fyne.NewMenu("Zipline Tray",
		first,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(MenuUploadFiles, u.PickFiles),
		fyne.NewMenuItem(MenuUploadClipboard, u.UploadClipboardImage),
		fyne.NewMenuItem(MenuDropZone, u.ShowDropZone),
		recentItem,
		fyne.NewMenuItemSeparator(),
		pause,
		fyne.NewMenuItem(MenuQueue, u.ShowQueue),
		fyne.NewMenuItem(MenuSettings, u.ShowSettings),
		fyne.NewMenuItemSeparator(),
		account,
		fyne.NewMenuItem(MenuAbout, u.ShowAbout),
		quit,
	)
}
