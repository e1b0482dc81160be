package uploader

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// heldFiles is what a watched folder held when it started being watched:
// the names (relative paths) and inode numbers of its files, and the scope
// they were listed in. It tells a file that arrived while nothing watched
// from an old one whose inode merely changed (chmod, a hard-link backup):
// both get a new ctime, only the first is new by name and by inode. By
// name and mtime: a folder restored from a backup gets new inodes for old
// pictures (a new photo under an old name has another mtime). By inode and
// size: an old picture renamed, or re-dated, keeps its inode (a new file
// given a deleted picture's inode number has another size).
type heldFiles struct {
	recursive bool
	include   []string // the include list in force (never nil)
	names     []uint64 // sorted fileKeys
	inos      []uint64 // sorted inodeKeys
	// partial: the walk missed some files (an unreadable subfolder), so a
	// file it does not list may be an old one. Not saved.
	partial bool
}

// inScope reports whether the listing would have seen the file at rel: a
// file out of it (in a subfolder, or of a type then not included) may be
// an old one and is left to its mtime.
func (h *heldFiles) inScope(rel string) bool {
	return (h.recursive || !strings.ContainsRune(filepath.ToSlash(rel), '/')) && Included(filepath.Base(rel), h.include)
}

// has reports whether the file at rel (described by fi) was held, by name
// or by inode.
func (h *heldFiles) has(rel string, fi fs.FileInfo) bool {
	if _, ok := slices.BinarySearch(h.names, fileKey(rel, fi)); ok {
		return true
	}
	ino, ok := inodeKey(fi)
	if !ok {
		return false
	}
	_, ok = slices.BinarySearch(h.inos, ino)
	return ok
}

// inodeKey names a file by its inode number and size, in 8 bytes.
func inodeKey(fi fs.FileInfo) (uint64, bool) {
	ino, ok := fileIno(fi)
	if !ok {
		return 0, false
	}
	h := fnv.New64a()
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:], ino)
	binary.BigEndian.PutUint64(b[8:], uint64(fi.Size()))
	h.Write(b[:])
	return h.Sum64(), true
}

// merge adds what o holds (listed in any scope: more held only means fewer
// files taken by their ctime).
func (h *heldFiles) merge(o *heldFiles) {
	if o == nil {
		return
	}
	h.partial = h.partial || o.partial
	h.names = sortedUnion(h.names, o.names)
	h.inos = sortedUnion(h.inos, o.inos)
}

func sortedUnion(a, b []uint64) []uint64 {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// fileKey names a file by its path in its watched folder and its mtime,
// in 8 bytes.
func fileKey(rel string, fi fs.FileInfo) uint64 {
	h := fnv.New64a()
	h.Write(binary.BigEndian.AppendUint64([]byte(filepath.ToSlash(rel)), uint64(fi.ModTime().UnixNano())))
	return h.Sum64()
}

// lister collects a heldFiles while a folder is walked.
type lister struct{ h heldFiles }

func newLister(recursive bool, include []string) *lister {
	if include == nil {
		include = DefaultInclude
	}
	return &lister{heldFiles{recursive: recursive, include: slices.Clone(include)}}
}

func (l *lister) add(rel string, fi fs.FileInfo) {
	l.h.names = append(l.h.names, fileKey(rel, fi))
	if ino, ok := inodeKey(fi); ok {
		l.h.inos = append(l.h.inos, ino)
	}
}

func (l *lister) done() *heldFiles {
	slices.Sort(l.h.names)
	l.h.names = slices.Compact(l.h.names)
	slices.Sort(l.h.inos)
	l.h.inos = slices.Compact(l.h.inos)
	return &l.h
}

// arrivedSince is the catch-up: files modified after since, and files that
// arrived after it keeping an older mtime (moved in; copied with cp -a,
// rsync -t, Syncthing). The ctime tells when a file arrived, but it also
// moves when an old file's inode changes, so it only counts for a file
// the folder did not hold (see heldFiles) when held has it in scope; nil:
// nothing listed, the mtime alone.
func arrivedSince(since time.Time, held *heldFiles) func(string, fs.FileInfo) bool {
	return func(rel string, fi fs.FileInfo) bool {
		if fi.ModTime().After(since) {
			return true
		}
		if held == nil || held.partial || !held.inScope(rel) {
			return false
		}
		c, ok := changeTime(fi)
		return ok && c.After(since.Add(-fileClockLag)) && !held.has(rel, fi)
	}
}

// fileClockLag: file times come from the kernel's coarse clock, up to a
// tick (1-10 ms) behind time.Now, so a file made just after a mark can
// carry a time just before it. Only the ctime test allows for it: a file
// that was there before the mark is in the record and stays out anyway.
const fileClockLag = 50 * time.Millisecond

const heldFormat = 2 // 1 keyed names by path alone

func (h *heldFiles) MarshalBinary() ([]byte, error) {
	b := []byte{heldFormat, 0}
	if h.recursive {
		b[1] = 1
	}
	b = binary.AppendUvarint(b, uint64(len(h.include)))
	for _, s := range h.include {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, list := range [][]uint64{h.names, h.inos} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, k := range list {
			b = binary.BigEndian.AppendUint64(b, k)
		}
	}
	return b, nil
}

var errHeldFormat = errors.New("unknown format of the files a folder held")

func (h *heldFiles) UnmarshalBinary(b []byte) error {
	if len(b) < 2 || b[0] != heldFormat {
		return errHeldFormat
	}
	*h = heldFiles{recursive: b[1] == 1, include: []string{}}
	b = b[2:]
	next := func() (uint64, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, false
		}
		b = b[k:]
		return n, true
	}
	n, ok := next()
	if !ok || n > uint64(len(b)) {
		return errHeldFormat
	}
	for range n {
		l, ok := next()
		if !ok || l > uint64(len(b)) {
			return errHeldFormat
		}
		h.include = append(h.include, string(b[:l]))
		b = b[l:]
	}
	for _, list := range []*[]uint64{&h.names, &h.inos} {
		n, ok := next()
		if !ok || n > uint64(len(b))/8 {
			return errHeldFormat
		}
		*list = make([]uint64, n)
		for i := range *list {
			(*list)[i] = binary.BigEndian.Uint64(b)
			b = b[8:]
		}
	}
	if len(b) != 0 {
		return errHeldFormat
	}
	return nil
}
