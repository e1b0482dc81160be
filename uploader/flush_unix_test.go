//go:build !windows

package uploader

import "syscall"

func flushDisk() { syscall.Sync() }
