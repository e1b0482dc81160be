package testutil

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBufferConcurrent writes from several goroutines while another reads;
// under -race an unguarded buffer fails here, and every write must arrive
// whole.
func TestBufferConcurrent(t *testing.T) {
	const writers, writes = 8, 200
	var b Buffer
	stop := make(chan struct{})
	read := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				read <- n
				return
			default:
				_ = b.String()
				n++
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range writes {
				fmt.Fprintf(&b, "w%d-%d\n", w, i)
			}
		})
	}
	wg.Wait()
	close(stop)
	if <-read == 0 {
		t.Error("the reader never ran")
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != writers*writes {
		t.Fatalf("%d lines, want %d", len(lines), writers*writes)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l] = true
	}
	for w := range writers {
		for i := range writes {
			if l := fmt.Sprintf("w%d-%d", w, i); !seen[l] {
				t.Fatalf("line %q missing", l)
			}
		}
	}
}

func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a command")
	}
	b := &Binary{Pkg: "./testdata/hello", Flags: []string{"-tags", "testutil_tagged"}, Env: []string{"CGO_ENABLED=0"}}
	p := b.Path(t)
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(p).Output()
	if err != nil || string(out) != "hello, tagged\n" {
		t.Fatalf("%s printed %q (%v), want the tagged greeting", p, out, err)
	}
	info, err := buildinfo.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-tags"] != "testutil_tagged" {
		t.Errorf("build settings %v: want CGO_ENABLED=0 and -tags=testutil_tagged", settings)
	}

	// Built once: a second call returns the same file, not rebuilt.
	if p2 := b.Path(t); p2 != p {
		t.Errorf("second Path = %s, want %s", p2, p)
	}
	if st2, err := os.Stat(p); err != nil || !st2.ModTime().Equal(st.ModTime()) {
		t.Errorf("rebuilt: %v", err)
	}

	if err := b.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Remove, %s: %v", b.dir, err)
	}
}

func TestBinaryBuildError(t *testing.T) {
	b := &Binary{Pkg: "./testdata/nosuch"}
	defer b.Remove()
	_, err := b.build()
	if err == nil || !strings.Contains(err.Error(), "go build -o ") || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("build of a missing package: %v", err)
	}
	// The error stays: every test asking for the binary fails with it.
	if _, err2 := b.build(); err2 != err {
		t.Errorf("second build = %v, want the first error", err2)
	}
}

// fakeTB records Fatalf and ends the goroutine as testing.T does.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestWaitFor(t *testing.T) {
	run := func(d time.Duration, cond func() bool) string {
		f := &fakeTB{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			WaitFor(f, d, "the thing", cond)
		}()
		<-done
		return f.failed
	}
	n := 0
	if msg := run(time.Minute, func() bool { n++; return n == 3 }); msg != "" || n != 3 {
		t.Errorf("condition true on the third call: failed %q after %d calls", msg, n)
	}
	if msg := run(10*time.Millisecond, func() bool { return false }); msg != "timed out after 10ms waiting for the thing" {
		t.Errorf("never true: %q", msg)
	}
}
