package uploader

import (
	"io/fs"
	"os"
	"sync/atomic"
)

// A small file the watcher has just checked is read there, once, while
// nobody can write it (under the read lease), and its bytes go with it to
// the queue. Its upload then costs a stat instead of opening and reading
// the file again, and the worker's request starts sooner: in a burst the
// uploads are the bottleneck, the watcher is not. The bytes are used only
// if the file is still the same version (same inode, size, mtime and
// ctime) and the watcher saw no event for it since (watchRun.ahead);
// otherwise it is read again. So they are read ahead only where any later
// change is sure to change the ctime (versionTells): nanosecond timestamps,
// and a ctime older than the current clock tick.
const (
	prefetchMax  = 16 << 20 // bytes read ahead and not yet uploaded, in all
	prefetchFile = 1 << 20  // the largest file read ahead
)

// fileVersion identifies a version of a file: a write, a truncate, a chmod
// or a replacement changes at least one field.
type fileVersion struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // ns
}

// prefetched is a file's bytes as read by the watcher's check.
type prefetched struct {
	data []byte
	ver  fileVersion
	b    *prefetchBudget
	done atomic.Bool
	// stale: the watcher saw the file change (or could no longer see it)
	// after the check. It does not rest on clocks, as the version does.
	stale atomic.Bool
}

// release returns p's bytes to the budget; only the first call counts.
func (p *prefetched) release() {
	if p != nil && p.done.CompareAndSwap(false, true) {
		p.b.used.Add(-int64(len(p.data)))
		p.data = nil // the watcher's staleness map keeps p a while
	}
}

// current returns the file's info and p's bytes if the file at path is
// still the version p read.
func (p *prefetched) current(path string) (fs.FileInfo, []byte, bool) {
	if p == nil || p.stale.Load() {
		return nil, nil, false
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || !sameVersion(fi, p.ver) {
		return nil, nil, false
	}
	return fi, p.data, true
}

// prefetchBudget bounds the bytes read ahead; nil reads nothing ahead.
type prefetchBudget struct {
	used atomic.Int64
	hits atomic.Int64 // uploads that used read-ahead bytes, for tests
}

// take reserves n bytes for a file read ahead.
func (b *prefetchBudget) take(n int64) bool {
	if b == nil || n <= 0 || n > prefetchFile {
		return false
	}
	for {
		u := b.used.Load()
		if u+n > prefetchMax {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}
