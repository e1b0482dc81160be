//go:build !linux

package uploader

import (
	"os"
	"syscall"
)

// openRead opens a regular file for reading; anything else gives
// errNotRegular. Opening without blocking keeps a FIFO from hanging it
// (Windows ignores the flag and has no FIFOs in folders).
func openRead(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = errNotRegular
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return f, nil
}
