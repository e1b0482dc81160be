package uploader

import (
	"os"
	"syscall"
)

// openRead opens a regular file for reading; anything else gives
// errNotRegular. It opens without blocking, so a FIFO put in a file's place
// cannot hang the caller, and checks the type before making an *os.File.
func openRead(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			syscall.Close(fd)
			if err == nil {
				err = errNotRegular
			}
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		// A regular file ignores O_NONBLOCK; os.NewFile sees it and tries the
		// poller once, which refuses regular files.
		return os.NewFile(uintptr(fd), path), nil
	}
}
