//go:build !linux

package uploader

import "os"

// deleteHashed deletes the file f, open at path as fi, just found to hold
// the bytes uploaded. It is closed first: Windows cannot delete a file this
// process holds open without sharing deletion.
func deleteHashed(path string, f *os.File, fi os.FileInfo, hold noWriterHold) (bool, error) {
	hold.release()
	f.Close()
	if cur, err := os.Lstat(path); err != nil || !os.SameFile(cur, fi) {
		return false, nil
	}
	return true, os.Remove(path)
}
