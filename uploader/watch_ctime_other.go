//go:build !(linux || openbsd || darwin || freebsd || netbsd)

package uploader

import (
	"io/fs"
	"time"
)

// changeTime is not known here (Windows keeps no inode change time in
// os.Stat); the mtime alone decides.
func changeTime(fs.FileInfo) (time.Time, bool) { return time.Time{}, false }

func fileIno(fs.FileInfo) (uint64, bool) { return 0, false }

const haveChangeTime = false
