package uploader

import (
	"os"
	"syscall"
)

// openRead opens a file for reading. os.Open tries to register every file
// with the network poller (two fcntl calls and an epoll_ctl that fails for
// regular files); the watcher and the uploads open each file of a burst, and
// on a busy VM each system call costs several microseconds.
func openRead(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
