//go:build !linux

package uploader

import "os"

// deleteNeedsLease: there are no leases here (see deleteHashed).
const deleteNeedsLease = false

// deleteHashed deletes the file f, open at path as fi, just found to hold
// the bytes uploaded. It is closed first: Windows cannot delete a file this
// process holds open without sharing deletion. A program that wrote it in
// the moment since changed its size or mtime: then it is kept.
func deleteHashed(path string, f *os.File, fi os.FileInfo, hold noWriterHold) (bool, error) {
	hold.release()
	f.Close()
	cur, err := os.Lstat(path)
	if err != nil || !os.SameFile(cur, fi) || cur.Size() != fi.Size() || !cur.ModTime().Equal(fi.ModTime()) {
		return false, nil
	}
	return true, os.Remove(path)
}
