package uploader

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// noWriterHold is what openNoWriter holds to keep writers out (a read
// lease on Linux). broken reports that a writer is waiting for it.
type noWriterHold interface {
	broken() bool
	release()
}

// noHold: nothing is held (writers cannot be seen or are refused by the open).
type noHold struct{}

func (noHold) broken() bool { return false }
func (noHold) release()     {}

// testRemoveChunk, when set by a test, runs after each chunk removeUploaded
// hashes.
var testRemoveChunk func(path string, broken func() bool)

// errWriterWaiting: a program opened the file for writing while it was
// being checked for removal; it is kept.
var errWriterWaiting = errors.New("another program opened it for writing")

// removeUploaded deletes the local file at r.path (DeleteAfterUpload) if it
// is still the file that was uploaded and holds the same bytes. A rewrite
// after the upload began keeps the inode and the size, and may keep the
// mtime (exiftool -P, touch -r) or fall within a coarse timestamp's second
// (FAT, HFS+): only its content tells, and deleting it would lose the new
// bytes. Nobody may open it for writing meanwhile (where that can be seen):
// a writer that tries is let go at once and the file kept, since a writer
// whose open completes after the delete would write into a deleted file.
// It reports whether the file was deleted.
func removeUploaded(r removal) (bool, error) {
	if r.fi == nil || r.sum == "" {
		return false, nil
	}
	f, hold, err := openNoWriter(r.path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	defer hold.release()
	if _, none := hold.(noHold); none && deleteNeedsLease {
		// deleteHashed would keep it anyway: no need to read it all.
		return false, fmt.Errorf("cannot tell whether another program is writing %s (no file lease here); it is kept", r.path)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !os.SameFile(fi, r.fi) || fi.Size() != r.fi.Size() {
		return false, err
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if testRemoveChunk != nil {
			testRemoveChunk(r.path, hold.broken)
		}
		if hold.broken() {
			return false, errWriterWaiting
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, err
		}
	}
	if hex.EncodeToString(h.Sum(nil)) != r.sum {
		return false, nil
	}
	// Still that file under that name (not replaced meanwhile), and no
	// writer waiting for it.
	if cur, err := os.Lstat(r.path); err != nil || !os.SameFile(cur, fi) {
		return false, nil
	}
	if hold.broken() {
		return false, errWriterWaiting
	}
	return deleteHashed(r.path, f, fi, hold)
}
