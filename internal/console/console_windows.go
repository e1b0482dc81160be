package console

import (
	"io"
	"log"
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

var (
	kernel32          = windows.NewLazySystemDLL("kernel32.dll")
	procAttachConsole = kernel32.NewProc("AttachConsole")
	// GetFileType is called directly: x/sys/windows turns its "unknown
	// type, no error" answer into an error, and keep needs the difference.
	procGetFileType = kernel32.NewProc("GetFileType")
)

const attachParentProcess = ^uint32(0) // ATTACH_PARENT_PROCESS, (DWORD)-1

// replaced holds the files Attach replaced, so that their finalizers never
// run: one would close a handle value that this process may have reused.
var replaced []*os.File

// Attach attaches the process to its parent's console, if it has none and
// the parent has one (cmd.exe, PowerShell, Windows Terminal), and points
// each standard stream that has no usable handle at the process's console:
// stdin at CONIN$, stdout and stderr at CONOUT$. Streams redirected to a
// file or a pipe are kept. Call it first thing, before anything reads
// os.Stdin or writes to os.Stdout or os.Stderr. Without a console (started
// from Explorer, a shortcut or a scheduled task) it changes nothing.
func Attach() {
	streams := [...]struct {
		std    uint32
		file   **os.File
		sys    *syscall.Handle
		name   string
		device string
	}{
		{windows.STD_INPUT_HANDLE, &os.Stdin, &syscall.Stdin, "/dev/stdin", "CONIN$"},
		{windows.STD_OUTPUT_HANDLE, &os.Stdout, &syscall.Stdout, "/dev/stdout", "CONOUT$"},
		{windows.STD_ERROR_HANDLE, &os.Stderr, &syscall.Stderr, "/dev/stderr", "CONOUT$"},
	}
	var usable [len(streams)]bool
	for i, s := range streams {
		h, _ := windows.GetStdHandle(s.std)
		t, _, errno := procGetFileType.Call(uintptr(h))
		usable[i] = keep(uintptr(h), uint32(t), uintptr(errno.(syscall.Errno)))
	}
	// Attach even when every stream is redirected: attached, the process
	// gets the console's Ctrl-C (os.Interrupt) like a console program.
	// It fails when the process has a console already (a console program;
	// under Wine, a GUI program started from one), which is then the one
	// to use, and when there is no console to attach to, where opening
	// CONIN$ and CONOUT$ below fails and nothing changes.
	procAttachConsole.Call(uintptr(attachParentProcess))
	oldStderr := os.Stderr
	for i, s := range streams {
		if usable[i] {
			continue
		}
		name, err := windows.UTF16PtrFromString(s.device)
		if err != nil {
			continue
		}
		// Read and write access on both: SetConsoleMode, which password
		// prompts use on CONIN$, needs it.
		h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE,
			windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
		if err != nil {
			continue // no console
		}
		// The runtime writes panics to the std handle; child processes
		// inherit it.
		if err := windows.SetStdHandle(s.std, h); err != nil {
			windows.CloseHandle(h)
			continue
		}
		// Set before os.NewFile: for syscall.Stdin, os skips its check for
		// a non-blocking handle, which can block while the parent shell
		// reads the same console (go.dev/issue/75949).
		*s.sys = syscall.Handle(h)
		if *s.file != nil {
			replaced = append(replaced, *s.file)
		}
		*s.file = os.NewFile(uintptr(h), s.name)
	}
	// The standard logger (and slog's default) kept the stderr of start-up.
	if os.Stderr != oldStderr && log.Writer() == io.Writer(oldStderr) {
		log.SetOutput(os.Stderr)
	}
}
