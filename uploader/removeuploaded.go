package uploader

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
)

// removeUploaded deletes the local file at r.path (DeleteAfterUpload) if it
// is still the file that was uploaded and holds the same bytes. A rewrite
// after the upload began keeps the inode and the size, and may keep the
// mtime (exiftool -P, touch -r) or fall within a coarse timestamp's second
// (FAT, HFS+): only its content tells, and deleting it would lose the new
// bytes. Nobody may have it open for writing meanwhile (where that can be
// seen): a writer could add to it after the delete. It reports whether the
// file was deleted.
func removeUploaded(r removal) (bool, error) {
	if r.fi == nil || r.sum == "" {
		return false, nil
	}
	f, release, err := openNoWriter(r.path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	defer release()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !os.SameFile(fi, r.fi) || fi.Size() != r.fi.Size() {
		return false, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	if hex.EncodeToString(h.Sum(nil)) != r.sum {
		return false, nil
	}
	// Still that file under that name (not replaced meanwhile).
	if cur, err := os.Lstat(r.path); err != nil || !os.SameFile(cur, fi) {
		return false, nil
	}
	return true, os.Remove(r.path)
}
