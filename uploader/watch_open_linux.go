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
// With the lease held, a small file is read too, if b has room (see
// prefetched). Raw system calls: the watcher checks every file of a burst.
func openForCheck(path string, b *prefetchBudget) (checked, error) {
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
	var pre *prefetched
	if lerr == nil && serr == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Size <= prefetchFile && versionTells(fd, &st) && b.take(st.Size) {
		// Nobody can write it while the lease is held: these are the
		// bytes of the version st describes.
		pre = &prefetched{data: make([]byte, st.Size), ver: statVersion(&st), b: b}
		if !preadFull(fd, pre.data) {
			pre.release()
			pre = nil
		}
	}
	if lerr == nil {
		unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_UNLCK)
	}
	if serr != nil {
		return checked{}, &os.PathError{Op: "fstat", Path: path, Err: serr}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return checked{}, &os.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	return checked{size: st.Size, mod: time.Unix(st.Mtim.Unix()), noWriter: lerr == nil, pre: pre}, nil
}

// preadFull fills buf from the start of the file, and reports whether the
// file had exactly that many bytes.
func preadFull(fd int, buf []byte) bool {
	n := 0
	for n < len(buf) {
		m, err := syscall.Pread(fd, buf[n:], int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil || m == 0 {
			return false
		}
		n += m
	}
	var one [1]byte
	m, err := syscall.Pread(fd, one[:], int64(n))
	return err == nil && m == 0
}

func statVersion(st *syscall.Stat_t) fileVersion {
	return fileVersion{
		dev: uint64(st.Dev), ino: st.Ino, size: st.Size,
		mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(),
	}
}

// sameVersion reports whether fi (from os.Stat) is the version v.
func sameVersion(fi os.FileInfo, v fileVersion) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && statVersion(st) == v
}

// versionTells reports whether any later change of the file (open as fd,
// last changed at st.Ctim) will change its ctime, so that the version
// compared at upload time (see prefetched) tells a rewrite of the same size.
// That takes two things:
//   - nanosecond timestamps: only the file systems listed here have them,
//     and a ctime of whole seconds means a coarse one after all (ext4 with
//     128-byte inodes, as ext3 has); FAT (2 s), exFAT (10 ms) and HFS+
//     (1 s) are not listed;
//   - a ctime older than the clock a change would be stamped with now (the
//     coarse realtime clock): a change in the same clock tick could
//     otherwise keep it. On kernels with multigrain timestamps (6.13) the
//     fstat alone would do, but this holds everywhere.
func versionTells(fd int, st *syscall.Stat_t) bool {
	if st.Ctim.Nsec == 0 {
		return false
	}
	var fs unix.Statfs_t
	if unix.Fstatfs(fd, &fs) != nil {
		return false
	}
	switch uint32(fs.Type) {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, uint32(unix.BTRFS_SUPER_MAGIC), unix.TMPFS_MAGIC, unix.F2FS_SUPER_MAGIC:
	default:
		return false
	}
	var now unix.Timespec
	if unix.ClockGettime(unix.CLOCK_REALTIME_COARSE, &now) != nil {
		return false
	}
	return st.Ctim.Nano() < now.Nano()
}

// openNoWriter opens path for reading and holds a read lease on it, so no
// one can open it for writing until release; it fails with errStillWriting
// while someone has it open for writing. A writer that tries meanwhile
// waits, and broken then reports it: let it go at once. Where leases are
// not allowed it holds none (nobody can tell).
func openNoWriter(path string) (*os.File, noWriterHold, error) {
	f, err := openRead(path)
	if err != nil {
		return nil, nil, err
	}
	_, lerr := unix.FcntlInt(f.Fd(), unix.F_SETLEASE, unix.F_RDLCK)
	switch {
	case errors.Is(lerr, unix.EAGAIN):
		f.Close()
		return nil, nil, fmt.Errorf("open %s: %w", path, errStillWriting)
	case lerr != nil:
		return f, noHold{}, nil
	}
	return f, leaseHold{f}, nil
}

// leaseHold is a read lease held on f.
type leaseHold struct{ f *os.File }

func (l leaseHold) broken() bool {
	// While a writer waits, the lease is being broken: no longer F_RDLCK.
	t, err := unix.FcntlInt(l.f.Fd(), unix.F_GETLEASE, 0)
	return err != nil || t != unix.F_RDLCK
}

func (l leaseHold) release() { unix.FcntlInt(l.f.Fd(), unix.F_SETLEASE, unix.F_UNLCK) }
