//go:build linux

package uploader

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// errStillWriting says another program (or this one) still has the file
// open for writing.
var errStillWriting = errors.New("still open for writing")

// writersDetected says whether openExclusive can tell that a file is still
// open for writing.
const writersDetected = true

// openExclusive opens path for reading and fails while anyone has it open
// for writing: a read lease (F_SETLEASE, F_RDLCK) is refused with EAGAIN
// exactly then. The lease is dropped at once. Where leases are not allowed
// (not the file's owner, NFS and other file systems without them) the open
// alone decides.
func openExclusive(path string) (*os.File, error) {
	f, err := openRead(path)
	if err != nil {
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return f, nil
	}
	var lerr error
	cerr := rc.Control(func(fd uintptr) {
		if _, lerr = unix.FcntlInt(fd, unix.F_SETLEASE, unix.F_RDLCK); lerr == nil {
			unix.FcntlInt(fd, unix.F_SETLEASE, unix.F_UNLCK)
		}
	})
	if cerr == nil && errors.Is(lerr, unix.EAGAIN) {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, errStillWriting)
	}
	return f, nil
}
