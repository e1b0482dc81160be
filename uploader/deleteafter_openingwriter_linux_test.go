//go:build linux

package uploader

import (
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"golang.org/x/sys/unix"
)

// openGate holds the opens of one file by other processes in the kernel's
// open-permission hook (fanotify FAN_OPEN_PERM, as an on-access scanner
// does): after the path lookup, before the lease is broken. Opens by this
// process are let through at once.
type openGate struct {
	fd   int
	held chan int32 // event fds of held opens
	stop chan struct{}
	done chan struct{}
}

func newOpenGate(t *testing.T, path string) *openGate {
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_CONTENT|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK, unix.O_RDONLY|unix.O_LARGEFILE)
	if err != nil {
		t.Skipf("fanotify: %v", err)
	}
	if err := unix.FanotifyMark(fd, unix.FAN_MARK_ADD, unix.FAN_OPEN_PERM, unix.AT_FDCWD, path); err != nil {
		unix.Close(fd)
		t.Skipf("fanotify mark: %v", err)
	}
	g := &openGate{fd: fd, held: make(chan int32, 16), stop: make(chan struct{}), done: make(chan struct{})}
	go g.loop()
	// Closing the group answers every open still held (allowed).
	t.Cleanup(func() { close(g.stop); <-g.done; unix.Close(fd) })
	return g
}

func (g *openGate) answer(efd int32) {
	resp := unix.FanotifyResponse{Fd: efd, Response: unix.FAN_ALLOW}
	unix.Write(g.fd, (*[unsafe.Sizeof(resp)]byte)(unsafe.Pointer(&resp))[:])
	unix.Close(int(efd))
}

func (g *openGate) loop() {
	defer close(g.done)
	self := int32(os.Getpid())
	buf := make([]byte, 4096)
	for {
		select {
		case <-g.stop:
			return
		default:
		}
		pfd := []unix.PollFd{{Fd: int32(g.fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(pfd, 20); n <= 0 {
			continue
		}
		n, err := unix.Read(g.fd, buf)
		if err != nil || n <= 0 {
			continue
		}
		for off := 0; off+int(unsafe.Sizeof(unix.FanotifyEventMetadata{})) <= n; {
			m := (*unix.FanotifyEventMetadata)(unsafe.Pointer(&buf[off]))
			if m.Event_len == 0 {
				break
			}
			if m.Fd >= 0 {
				if m.Pid == self {
					g.answer(m.Fd)
				} else {
					g.held <- m.Fd
				}
			}
			off += int(m.Event_len)
		}
	}
}

// A program saving the next capture under the same name opens the file
// while delete-after-upload checks it. Its open has taken write access and
// is still held in the kernel's open-permission hook (fanotify
// FAN_OPEN_PERM, as an on-access scanner holds it; LSM hooks sit in the
// same place): it has not reached our read lease yet, so the lease shows no
// writer. The file must be kept, and the writer's bytes land in it (found by
// review: it was deleted, the writer's open completed on the deleted inode
// and its save, reported successful, was lost).
func TestDeleteAfterUploadSeesOpeningWriter(t *testing.T) {
	f, e, r := deleteAfterEngine(t)
	p, _ := f.write(t, "shot.png", 3000)
	g := newOpenGate(t, p)

	next := "the next capture, saved under the same name"
	wrote := make(chan error, 1)
	var efd int32 = -1
	var brokenSeen bool
	var leaseErr error
	var once sync.Once
	testRemoveChunk = func(path string, broken func() bool) {
		if path != p {
			return
		}
		once.Do(func() {
			cmd := exec.Command("sh", "-c", `printf %s "$0" > "$1"`, next, p)
			if err := cmd.Start(); err != nil {
				wrote <- err
				return
			}
			go func() { wrote <- cmd.Wait() }()
			select {
			case efd = <-g.held:
			case <-time.After(10 * time.Second):
			}
			brokenSeen = broken()
			// What would tell: a read lease is refused while anyone has
			// the file open (or opening) for writing.
			if fd, err := unix.Open(p, unix.O_RDONLY, 0); err == nil {
				_, leaseErr = unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK)
				unix.Close(fd)
			}
		})
	}
	if _, _, err := e.Add(p, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 20*time.Second, "the upload", func(evs []Event) bool { return uploadedPaths(evs)[p] == 1 })
	testutil.WaitFor(t, 10*time.Second, "the removal check", func() bool {
		e.commit.mu.Lock()
		defer e.commit.mu.Unlock()
		return e.commit.checked >= 1
	})
	if efd < 0 {
		t.Fatal("the writer's open was never held")
	}
	t.Logf("broken() while the writer was opening: %v; a new read lease then: %v", brokenSeen, leaseErr)
	g.answer(efd) // the writer's open goes on
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatalf("the writer failed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the writer is still held")
	}
	got, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the writer saved %q without error, and the file is gone: written to the deleted inode", next)
	}
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != next {
		t.Errorf("the file holds %q, want the writer's bytes", got)
	}
}
