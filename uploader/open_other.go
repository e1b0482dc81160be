//go:build !linux

package uploader

import (
	"os"
	"syscall"
)

// openRead opens a file for reading without blocking, so a FIFO put in a
// file's place cannot hang the caller (callers check the type; Windows
// ignores the flag and has no FIFOs in folders).
func openRead(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
