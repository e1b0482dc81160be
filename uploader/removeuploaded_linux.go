package uploader

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// deleteNeedsLease: deleteHashed keeps a file it cannot take a lease on.
const deleteNeedsLease = true

// deleteHashed deletes the file f, open at path as fi, just found to hold
// the bytes uploaded, unless a program has it open, or is opening it, for
// writing. Our lease shows a writer only once its open reaches the lease;
// one still held on the way (by an on-access scanner or a security module)
// already has write access, and a fresh read lease is refused then. So the
// check takes one, on the file at path, which must still be f's file. Only
// an open that takes write access in the microseconds between this check
// and the delete can miss it.
func deleteHashed(path string, f *os.File, fi os.FileInfo, hold noWriterHold) (bool, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("check %s before deleting it: %w", path, err)
	}
	defer unix.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return false, fmt.Errorf("check %s before deleting it: %w", path, err)
	}
	if was, ok := fi.Sys().(*syscall.Stat_t); !ok || was.Dev != st.Dev || was.Ino != st.Ino {
		return false, nil // replaced meanwhile: not the file uploaded
	}
	_, lerr := unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK)
	switch {
	case errors.Is(lerr, unix.EAGAIN):
		return false, errWriterWaiting
	case lerr != nil:
		// Not our file, or no leases on this file system: nobody can tell
		// whether a program is writing it, so it is kept.
		return false, fmt.Errorf("cannot tell whether another program is writing %s (%w); it is kept", path, lerr)
	}
	unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_UNLCK)
	if hold.broken() {
		return false, errWriterWaiting
	}
	return true, os.Remove(path)
}
