//go:build !linux

package uploader

import "io"

// openForCheck opens the file for reading, reads a byte and closes it; on
// Windows it also fails while another process has it open for writing.
func openForCheck(path string) error {
	f, err := openExclusive(path)
	if err != nil {
		return err
	}
	var b [1]byte
	_, err = f.Read(b[:])
	f.Close()
	if err == io.EOF {
		err = nil
	}
	return err
}
