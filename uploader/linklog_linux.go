package uploader

import (
	"os"
	"syscall"
)

// datasync flushes a file's data without its timestamps.
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
