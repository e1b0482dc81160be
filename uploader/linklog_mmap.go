//go:build linux || darwin

package uploader

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f for reading and writing, shared with the
// file; nil if that fails (the log then writes with WriteAt).
func mapFile(f *os.File, size int) []byte {
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return m
}

func unmapFile(m []byte) { _ = syscall.Munmap(m) }
