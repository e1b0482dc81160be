//go:build linux || openbsd || darwin || freebsd || netbsd

package uploader

import (
	"io/fs"
	"syscall"
)

// fileIno is the file's inode number.
func fileIno(fi fs.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Ino), true
}

// haveChangeTime: changeTime knows the inode change time here.
const haveChangeTime = true
