package uploader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// deleteHashed deletes the file f, open at path as fi, just found to hold
// the bytes uploaded. It is first renamed to a hidden name: a program that
// looks the name up afterwards (the next capture saved under it) creates a
// new file. One that looked it up before has write access by the check
// after the rename (a fresh read lease is refused), even if its open is
// still held on the way (an on-access scanner) and has not broken our lease
// yet; the file is then renamed back and kept. Only an open caught between
// its lookup and taking write access, within one system call, can still
// miss the check.
func deleteHashed(path string, f *os.File, fi os.FileInfo, hold noWriterHold) (bool, error) {
	hidden := filepath.Join(filepath.Dir(path), ".zipline-tray-deleting-"+filepath.Base(path))
	if err := unix.Renameat2(unix.AT_FDCWD, path, unix.AT_FDCWD, hidden, unix.RENAME_NOREPLACE); err != nil {
		return false, fmt.Errorf("delete %s: %w", path, err)
	}
	cur, err := os.Lstat(hidden)
	if err == nil && os.SameFile(cur, fi) && !hold.broken() && !writerPresent(hidden) {
		return true, os.Remove(hidden)
	}
	// Replaced just before the rename, or a program is writing it: back.
	if err := putBack(hidden, path); err != nil {
		return false, err
	}
	return false, errWriterWaiting
}

// writerPresent reports whether anyone has path open for writing, or is
// opening it so: a read lease is refused exactly then.
func writerPresent(path string) bool {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return true // cannot tell: keep the file
	}
	defer unix.Close(fd)
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK); err != nil {
		return errors.Is(err, unix.EAGAIN)
	}
	unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_UNLCK)
	return false
}

// putBack renames hidden back to path, or, if a new file took that name
// meanwhile, to a name beside it: never over another file.
func putBack(hidden, path string) error {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	for i := 1; i <= 100; i++ {
		to := path
		if i > 1 {
			to = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		err := unix.Renameat2(unix.AT_FDCWD, hidden, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
		if !errors.Is(err, unix.EEXIST) {
			if err != nil {
				return fmt.Errorf("keep %s: %w (it is at %s)", path, err, hidden)
			}
			return nil
		}
	}
	return fmt.Errorf("keep %s: no free name beside it (it is at %s)", path, hidden)
}
