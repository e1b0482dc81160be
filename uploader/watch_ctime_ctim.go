//go:build linux || openbsd

package uploader

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime is the inode change time, which a rename into the folder
// updates while the mtime stays old.
func changeTime(fi fs.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)), true
}
