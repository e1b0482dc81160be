//go:build linux

package uploader

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

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
// exactly then. The lease is dropped at once; size and mtime are read while
// it is held, so they are final unless a writer comes back. Where leases
// are not allowed (not the file's owner, NFS and other file systems without
// them) the open alone decides, and noWriter stays false: nobody knows.
// Raw system calls: the watcher checks every file of a burst.
func openForCheck(path string) (checked, error) {
	var fd int
	var err error
	for {
		// Non-blocking: a FIFO put in the file's place cannot hang the watcher.
		if fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0); err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return checked{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	_, lerr := unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK)
	if errors.Is(lerr, unix.EAGAIN) {
		return checked{}, fmt.Errorf("open %s: %w", path, errStillWriting)
	}
	var st syscall.Stat_t
	serr := syscall.Fstat(fd, &st)
	if lerr == nil {
		unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_UNLCK)
	}
	if serr != nil {
		return checked{}, &os.PathError{Op: "fstat", Path: path, Err: serr}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return checked{}, &os.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	return checked{size: st.Size, mod: time.Unix(st.Mtim.Sec, st.Mtim.Nsec), noWriter: lerr == nil}, nil
}
