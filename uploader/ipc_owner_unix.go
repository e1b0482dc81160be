//go:build unix

package uploader

import (
	"fmt"
	"os"
	"syscall"
)

// checkSocketOwner refuses a control socket that another user made: in the
// shared temp folder (long state paths) someone could put one there first,
// to be told which files to upload and answer that they were queued.
func checkSocketOwner(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil // nothing there: the dial says so
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if fi.Mode()&os.ModeSocket == 0 || !ok || int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s is not this user's zipline-tray control socket; remove it, or ask who made it", path)
	}
	return nil
}
