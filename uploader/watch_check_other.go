//go:build !linux

package uploader

import (
	"io"
	"os"
)

// openForCheck opens the file for reading, reads a byte and closes it; on
// Windows it also fails while another process has it open for writing, so
// there a file it opens has no writer. Nothing is read ahead: there is
// no lease to say the bytes are final.
func openForCheck(path string, _ *prefetchBudget) (checked, error) {
	f, err := openExclusive(path)
	if err != nil {
		return checked{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return checked{}, err
	}
	var b [1]byte
	if _, err = f.Read(b[:]); err != nil && err != io.EOF {
		return checked{}, err
	}
	return checked{size: fi.Size(), mod: fi.ModTime(), noWriter: writersDetected}, nil
}

// sameVersion: nothing is read ahead here (see openForCheck).
func sameVersion(os.FileInfo, fileVersion) bool { return false }
