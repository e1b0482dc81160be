//go:build linux

package uploader

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// errStillWriting says another program (or this one) still has the file
// open for writing.
var errStillWriting = errors.New("still open for writing")

// writersDetected says whether openForCheck can tell that a file is still
// open for writing.
const writersDetected = true

// openForCheck opens path for reading and fails while anyone has it open
// for writing: a read lease (F_SETLEASE, F_RDLCK) is refused with EAGAIN
// exactly then. The lease is dropped at once. Where leases are not allowed
// (not the file's owner, NFS and other file systems without them) the open
// alone decides. Raw system calls: the watcher checks every file of a burst.
func openForCheck(path string) error {
	var fd int
	var err error
	for {
		// Non-blocking: a FIFO put in the file's place cannot hang the watcher.
		if fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0); err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK)
	switch {
	case err == nil:
		unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_UNLCK)
		return nil
	case errors.Is(err, unix.EAGAIN):
		return fmt.Errorf("open %s: %w", path, errStillWriting)
	case errors.Is(err, unix.EINVAL): // no lease on this file: is it a file at all?
		var st syscall.Stat_t
		if syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			return &os.PathError{Op: "open", Path: path, Err: errNotRegular}
		}
	}
	return nil
}
