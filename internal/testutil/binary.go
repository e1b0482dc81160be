package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Binary is a command that tests run as a user would, built at most once
// per test process into a temporary directory. Declare it at package level
// and remove it in TestMain:
//
//	var app = &testutil.Binary{Pkg: "github.com/zipline-tray/zipline-tray", Flags: []string{"-tags", "migrated_fynedo"}}
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		app.Remove()
//		os.Exit(code)
//	}
type Binary struct {
	// Pkg is the main package: an import path, or a path relative to the
	// test's package directory ("./testdata/cmd"). Its last element names
	// the file.
	Pkg string
	// Flags go to go build before -o, such as "-tags", "migrated_fynedo", "-race".
	Flags []string
	// Env is added to the environment of go build, such as "CGO_ENABLED=0".
	Env []string

	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the binary on the first call and returns its absolute path.
// A failed build fails every test that asks for the binary, with go build's
// output.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	p, err := b.build()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (b *Binary) build() (string, error) {
	b.once.Do(func() {
		// The test binary's name ("cli.test") tells whose directory a
		// leftover one is, should a test process be killed.
		b.dir, b.err = os.MkdirTemp("", filepath.Base(os.Args[0])+"-bin-")
		if b.err != nil {
			return
		}
		name := path.Base(b.Pkg)
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		out := filepath.Join(b.dir, name)
		args := append(append([]string{"build"}, b.Flags...), "-o", out, b.Pkg)
		// go test puts its own go first on PATH.
		cmd := exec.Command("go", args...)
		if len(b.Env) > 0 {
			cmd.Env = append(os.Environ(), b.Env...)
		}
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, msg)
			return
		}
		b.path = out
	})
	return b.path, b.err
}

// Remove deletes the built binary and its directory, if Path built one.
// Call it from TestMain after m.Run, when no test uses the binary any more.
func (b *Binary) Remove() error {
	if b.dir == "" {
		return nil
	}
	return os.RemoveAll(b.dir)
}
