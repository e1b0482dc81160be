//go:build !windows

package autostart

// On Linux, the BSDs and macOS the login entry is a file (an XDG autostart
// .desktop file, a LaunchAgent plist): Path and entry say which.

// Enable starts exe at every login.
func Enable(exe string) error {
	if err := checkExe(exe); err != nil {
		return err
	}
	p, err := Path()
	if err != nil {
		return err
	}
	return writeEntry(p, entry(exe))
}

// Disable removes the login entry; it is not an error if there is none.
func Disable() error {
	p, err := Path()
	if err != nil {
		return err
	}
	return removeEntry(p)
}

// Enabled reports whether the login entry exists.
func Enabled() (bool, error) {
	p, err := Path()
	if err != nil {
		return false, err
	}
	return exists(p)
}
