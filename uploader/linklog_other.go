//go:build !linux

package uploader

import "os"

func datasync(f *os.File) error { return f.Sync() }
