package console

import "testing"

func TestKeep(t *testing.T) {
	const (
		fileTypeDisk       = 1 // FILE_TYPE_DISK
		fileTypeChar       = 2 // FILE_TYPE_CHAR: a console, NUL
		fileTypePipe       = 3 // FILE_TYPE_PIPE
		errorInvalidHandle = 6 // ERROR_INVALID_HANDLE
	)
	tests := []struct {
		name     string
		h        uintptr
		fileType uint32
		lastErr  uintptr
		want     bool
	}{
		{"no handle (GUI program from a console)", 0, fileTypeUnknown, errorInvalidHandle, false},
		{"INVALID_HANDLE_VALUE", invalidHandle, fileTypeUnknown, errorInvalidHandle, false},
		// The checks on the value come first: whatever GetFileType made of
		// 0 or INVALID_HANDLE_VALUE (the latter is also the current
		// process's pseudo-handle), there is no stream to keep.
		{"no handle, type not asked", 0, fileTypeDisk, 0, false},
		{"INVALID_HANDLE_VALUE, type not asked", invalidHandle, fileTypeDisk, 0, false},
		{"stale value from the parent", 0x54, fileTypeUnknown, errorInvalidHandle, false},
		{"GetFileType failed otherwise", 0x54, fileTypeUnknown, 5 /* ERROR_ACCESS_DENIED */, false},
		{"redirected to a file", 0x54, fileTypeDisk, 0, true},
		{"piped", 0x58, fileTypePipe, 0, true},
		{"a console or NUL", 0x5c, fileTypeChar, 0, true},
		// The last error is only read when the type is unknown: a stale
		// error from an earlier call must not drop a good handle.
		{"file, stale last error", 0x54, fileTypeDisk, errorInvalidHandle, true},
		{"valid handle of an unknown type", 0x60, fileTypeUnknown, 0, true},
	}
	for _, tt := range tests {
		if got := keep(tt.h, tt.fileType, tt.lastErr); got != tt.want {
			t.Errorf("%s: keep(%#x, %d, %d) = %v, want %v", tt.name, tt.h, tt.fileType, tt.lastErr, got, tt.want)
		}
	}
}
