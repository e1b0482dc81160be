//go:build !linux

package uploader

import "io"

// openForCheck opens the file for reading, reads a byte and closes it; on
// Windows it also fails while another process has it open for writing, so
// there a file it opens has no writer.
func openForCheck(path string) (checked, error) {
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
