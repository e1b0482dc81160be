// Package guitest holds end-to-end tests of the real desktop binary. They
// build zipline-tray, run it in a private desktop session (its own D-Bus
// bus with a real gnome-keyring, a fake tray host and notification server
// from internal/traytest, the X display of scripts/testenv.sh) against
// the fake Zipline server, and drive it the way a desktop would: through
// the tray menu, notifications, real windows and XDND drags from another
// X client (xdnd_test.go).
//
// The package does not import Fyne; it only runs the binary. Outside
// scripts/testenv.sh (ZIPLINE_TRAY_REAL_KEYRING unset) the tests skip.
package guitest
