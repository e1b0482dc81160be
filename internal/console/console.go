// Package console lets a Windows GUI-subsystem program (linked with
// -H=windowsgui, so that starting it from Explorer opens no console window)
// use the console it was started from when it runs as a command-line tool.
// On other systems Attach does nothing.
package console

// Values of the Windows API, spelled out here so that the decision below
// builds and is tested on every system.
const (
	invalidHandle   = ^uintptr(0) // INVALID_HANDLE_VALUE
	fileTypeUnknown = 0           // FILE_TYPE_UNKNOWN
)

// keep reports whether a standard handle the process started with works as
// it is, from the handle and what GetFileType said of it: the type, and the
// thread's last error, which tells a failure from a handle of an unknown
// type. A redirected stream (a file, a pipe, NUL) is kept, so that
// "zipline-tray list > out.txt" still writes to out.txt. A GUI program
// started from a console without redirection has no handle (0), or a
// value copied from its parent that is no handle in this process.
func keep(h uintptr, fileType uint32, lastErr uintptr) bool {
	if h == 0 || h == invalidHandle {
		return false
	}
	return fileType != fileTypeUnknown || lastErr == 0
}
