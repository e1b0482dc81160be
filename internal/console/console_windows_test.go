package console

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The test binary is its own child: started with CONSOLE_TEST_REPORT set,
// it runs Attach and writes what became of its standard streams to that
// file instead of running the tests.
func TestMain(m *testing.M) {
	if path := os.Getenv("CONSOLE_TEST_REPORT"); path != "" {
		os.Exit(child(path))
	}
	os.Exit(m.Run())
}

func child(report string) int {
	Attach()
	_, errOut := io.WriteString(os.Stdout, "to stdout\n")
	_, errErr := io.WriteString(os.Stderr, "to stderr\n")
	r := fmt.Sprintf("stdin=%s stdout=%s stderr=%s write-stdout=%v write-stderr=%v log-to-stderr=%v",
		kind(os.Stdin), kind(os.Stdout), kind(os.Stderr), errOut, errErr, log.Writer() == io.Writer(os.Stderr))
	if err := os.WriteFile(report, []byte(r), 0o644); err != nil {
		return 1
	}
	return 0
}

func kind(f *os.File) string {
	if f == nil {
		return "nil"
	}
	h := windows.Handle(f.Fd())
	var mode uint32
	if windows.GetConsoleMode(h, &mode) == nil {
		return "console"
	}
	switch t, _ := windows.GetFileType(h); t {
	case windows.FILE_TYPE_PIPE:
		return "pipe"
	case windows.FILE_TYPE_DISK:
		return "file"
	}
	return "invalid"
}

// TestAttachChild starts a child as Windows starts a GUI program from a
// console shell: without a console of its own (DETACHED_PROCESS; a GUI
// program never gets one) and without standard handles, or with only
// stdout redirected. Attach must give it this process's console for the
// missing streams and keep the redirected one.
func TestAttachChild(t *testing.T) {
	con, err := windows.CreateFile(windows.StringToUTF16Ptr("CONOUT$"), windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		t.Skipf("the test process has no console for a child to attach to: %v", err)
	}
	windows.CloseHandle(con)

	t.Run("no std handles", func(t *testing.T) {
		report, _ := runChild(t, false)
		want := "stdin=console stdout=console stderr=console write-stdout=<nil> write-stderr=<nil> log-to-stderr=true"
		if report != want {
			t.Errorf("child reported\n%s\nwant\n%s", report, want)
		}
	})
	t.Run("stdout piped", func(t *testing.T) {
		report, piped := runChild(t, true)
		want := "stdin=console stdout=pipe stderr=console write-stdout=<nil> write-stderr=<nil> log-to-stderr=true"
		if report != want {
			t.Errorf("child reported\n%s\nwant\n%s", report, want)
		}
		if piped != "to stdout\n" {
			t.Errorf("pipe got %q, want the child's stdout %q", piped, "to stdout\n")
		}
	})
}

// runChild runs the test binary as a detached child with no standard
// handles but, if pipeStdout, a pipe for stdout; it returns the child's
// report and what came through the pipe.
func runChild(t *testing.T, pipeStdout bool) (report, piped string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report")
	t.Setenv("CONSOLE_TEST_REPORT", path) // CreateProcess passes this environment on

	si := windows.StartupInfo{Flags: windows.STARTF_USESTDHANDLES} // handles 0 unless set
	si.Cb = uint32(unsafe.Sizeof(si))
	var r *os.File
	if pipeStdout {
		var rh, wh windows.Handle
		if err := windows.CreatePipe(&rh, &wh, nil, 0); err != nil {
			t.Fatalf("CreatePipe: %v", err)
		}
		if err := windows.SetHandleInformation(wh, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT); err != nil {
			t.Fatalf("SetHandleInformation: %v", err)
		}
		r = os.NewFile(uintptr(rh), "pipe")
		defer r.Close()
		si.StdOutput = wh
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmdline := windows.StringToUTF16Ptr(windows.ComposeCommandLine([]string{exe, "-test.run=^$"}))
	var pi windows.ProcessInformation
	err = windows.CreateProcess(nil, cmdline, nil, nil, pipeStdout, windows.DETACHED_PROCESS, nil, nil, &si, &pi)
	if pipeStdout {
		windows.CloseHandle(si.StdOutput) // the child has its copy: EOF when it exits
	}
	if err != nil {
		t.Fatalf("CreateProcess: %v", err)
	}
	defer windows.CloseHandle(pi.Process)
	windows.CloseHandle(pi.Thread)
	if pipeStdout {
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read the child's stdout: %v", err)
		}
		piped = string(b)
	}
	if ev, err := windows.WaitForSingleObject(pi.Process, 60_000); ev != windows.WAIT_OBJECT_0 {
		t.Fatalf("child did not exit within 60s: %v", err)
	}
	var code uint32
	if err := windows.GetExitCodeProcess(pi.Process, &code); err != nil || code != 0 {
		t.Fatalf("child exit code %d (%v)", code, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the child wrote no report: %v", err)
	}
	return strings.TrimSpace(string(b)), piped
}
