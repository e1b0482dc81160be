package uploader

import (
	"os"
	"syscall"
)

// openRead opens a file for reading without blocking, so a FIFO put in a
// file's place cannot hang the caller (callers check the type). os.Open
// would add two fcntl calls around its poller registration; the uploads
// open every file of a burst, and on a busy VM each call costs microseconds.
func openRead(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		// A regular file ignores O_NONBLOCK; os.NewFile sees it and tries the
		// poller once, which refuses regular files.
		return os.NewFile(uintptr(fd), path), nil
	}
}
