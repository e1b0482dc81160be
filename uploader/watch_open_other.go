//go:build !windows && !linux

package uploader

import "os"

// writersDetected says whether openExclusive can tell that a file is still
// open for writing.
const writersDetected = false

// openExclusive opens path for reading. There is no cheap, reliable way to
// tell here whether a writer still has the file open; the size/mtime gate
// decides (macOS's own screenshots arrive complete by rename).
func openExclusive(path string) (*os.File, error) { return openRead(path) }

// openNoWriter opens path for reading; writers cannot be seen here.
func openNoWriter(path string) (*os.File, noWriterHold, error) {
	f, err := openRead(path)
	return f, noHold{}, err
}
