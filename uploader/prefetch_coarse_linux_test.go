//go:build linux

package uploader

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// mountCoarseFS mounts a small ext4 image made with 128-byte inodes: its
// timestamps (mtime, ctime) have a granularity of one second, like ext3,
// FAT (2 s), HFS+ or ISO file systems. Needs root and a loop device.
func mountCoarseFS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a loop file system")
	}
	base := t.TempDir() // removed after the unmount below (cleanups run last-in first-out)
	img, mnt := filepath.Join(base, "fs.img"), filepath.Join(base, "mnt")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 32<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-I", "128", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("mount: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Logf("umount: %v %s; lazy unmount", err, out)
			exec.Command("umount", "-l", mnt).Run()
		}
	})
	return mnt
}

// oneAtATime opens an engine that uploads one file at a time from
// root/shots (watched), with root/tmp beside it for files to move in.
func oneAtATime(t *testing.T, root string, deleteAfter bool) (f *fixture, e *Engine, r *recorder, watched, tmp string) {
	t.Helper()
	watched, tmp = filepath.Join(root, "shots"), filepath.Join(root, "tmp")
	for _, d := range []string{watched, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f = newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.Concurrency = 1
	cfg.DeleteAfterUpload = deleteAfter
	e = f.open(t, cfg)
	r = recordEvents(t, e)
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: watched}}})
	return f, e, r, watched, tmp
}

// sha256hex is the sha256 of b, as the fake server counts files.
func sha256hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func statT(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// On a file system whose timestamps are coarse (one second here; two
// seconds on FAT), a file rewritten in place with the same size in the same
// second as its previous change keeps dev, inode, size, mtime and ctime, so
// the version cannot tell the bytes read at the check are stale: the file
// must be uploaded as it is when its upload starts (found by review: the
// first read-ahead uploaded the old bytes).
func TestReadAheadCoarseTimestamps(t *testing.T) {
	coarseRewrite(t, false)
}

// The same with DeleteAfterUpload: the rewritten file passes the removal's
// check (same inode, size and mtime) and is deleted, so the server must
// have its new bytes, or they are lost.
func TestReadAheadCoarseTimestampsDeleteAfterUpload(t *testing.T) {
	coarseRewrite(t, true)
}

func coarseRewrite(t *testing.T, deleteAfter bool) {
	mnt := mountCoarseFS(t)
	f, e, r, watched, tmp := oneAtATime(t, mnt, deleteAfter)
	moveIn := func(name string, data []byte) string {
		t.Helper()
		src, dst := filepath.Join(tmp, name), filepath.Join(watched, name)
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(src, dst); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	queued := func(p string) func([]Event) bool {
		return func(evs []Event) bool {
			for _, ev := range evs {
				if ev.Type == EventQueued && ev.Path == p {
					return true
				}
			}
			return false
		}
	}
	started := func(p string) func([]Event) bool {
		return func(evs []Event) bool {
			for _, ev := range evs {
				if ev.Type == EventStarted && ev.Path == p {
					return true
				}
			}
			return false
		}
	}

	// A few attempts: one needs the rewrite to fall in the same second as
	// the file's previous change (checked below, not assumed).
	for attempt := range 4 {
		// The single worker is busy with a slow upload meanwhile.
		f.srv.SetDelay("/api/upload", 1500*time.Millisecond)
		blocker := moveIn("blocker"+string(rune('a'+attempt))+".png", bytes.Repeat([]byte{byte('a' + attempt)}, 1000))
		r.wait(t, 20*time.Second, "the blocker started", started(blocker))

		// Start just after a second boundary, so what follows fits in one second.
		now := time.Now()
		time.Sleep(now.Truncate(time.Second).Add(time.Second + 20*time.Millisecond).Sub(now))

		before := bytes.Repeat([]byte{byte('A' + attempt)}, 4000)
		after := bytes.Repeat([]byte{byte('a' + attempt)}, len(before))
		p := moveIn("shot"+string(rune('a'+attempt))+".png", before)
		r.wait(t, 20*time.Second, "the shot queued", queued(p))
		st1 := statT(t, p)
		// Rewritten in place, same size (a tool fixing the picture up).
		if err := os.WriteFile(p, after, 0o644); err != nil {
			t.Fatal(err)
		}
		st2 := statT(t, p)
		f.srv.SetDelay("/api/upload", 0)
		r.wait(t, 20*time.Second, "the shot uploaded", func(evs []Event) bool { return uploadedPaths(evs)[p] == 1 })
		if st1.Ino != st2.Ino || st1.Size != st2.Size || st1.Mtim != st2.Mtim || st1.Ctim != st2.Ctim {
			t.Logf("attempt %d: the rewrite fell in another second (ctime %v -> %v); again", attempt, st1.Ctim, st2.Ctim)
			continue
		}
		counts := f.serverCounts()
		if deleteAfter {
			testutil.WaitFor(t, 10*time.Second, "the uploaded file to be deleted", func() bool {
				_, err := os.Lstat(p)
				return os.IsNotExist(err)
			})
			if counts[sha256hex(after)] == 0 {
				t.Fatalf("the local file (rewritten before its upload started) was deleted after upload, but the server only has its old bytes (%d times): its content is lost", counts[sha256hex(before)])
			}
			return
		}
		if counts[sha256hex(before)] != 0 || counts[sha256hex(after)] != 1 {
			t.Fatalf("the file was rewritten (same size, same second) before its upload started; the server got the old bytes %d times and the file as it was at the start %d times (want 0 and 1; uploads from read-ahead bytes: %d)",
				counts[sha256hex(before)], counts[sha256hex(after)], e.preBudget.hits.Load())
		}
		return
	}
	t.Skip("could not rewrite the file within one second")
}
