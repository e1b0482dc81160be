//go:build windows

package uploader

import (
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// writersDetected says whether openExclusive can tell that a file is still
// open for writing.
const writersDetected = true

// openExclusive opens path for reading while refusing to share write
// access, so it fails (sharing violation) as long as another process —
// the screenshot tool or recorder still writing — holds it open for writing.
func openExclusive(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// openNoWriter opens path for reading, refusing to share writing: it fails
// while another process has the file open for writing, and no one can open
// it for writing until it is closed.
func openNoWriter(path string) (*os.File, noWriterHold, error) {
	f, err := openExclusive(path)
	return f, noHold{}, err
}
