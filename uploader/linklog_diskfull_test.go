//go:build linux

package uploader

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// mountSmall mounts a tmpfs of size bytes (root only) and returns its path.
func mountSmall(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

func freeBytes(t *testing.T, dir string) int64 {
	var s syscall.Statfs_t
	if err := syscall.Statfs(dir, &s); err != nil {
		t.Fatal(err)
	}
	return int64(s.Bavail) * int64(s.Bsize)
}

// With under 2 MiB free the store runs without the log (links committed to
// bbolt): the failed preallocation must not leave the disk full.
func TestLogOffLeavesDiskFull(t *testing.T) {
	dir := mountSmall(t, "1500k")
	st, err := openStore(filepath.Join(dir, "state"), time.Second)
	if err != nil {
		t.Fatalf("open with 1.5 MiB free: %v", err)
	}
	defer st.close()
	if st.log.offErr == nil {
		t.Fatal("log on despite no room")
	}
	fi, _ := os.Stat(filepath.Join(dir, "state", LinkLogFile))
	t.Logf("offErr=%v; links.log left behind: %d bytes; free now: %d bytes", st.log.offErr, fi.Size(), freeBytes(t, dir))
	var failed int
	for i := range 20 {
		outs := finishedOutcomes(t, st, 5, string(rune('a'+i)))
		if err := st.finishMany(outs); err != nil {
			failed++
			t.Logf("finishMany %d: %v", i, err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of 20 groups of links could not be recorded: the half-written links.log took the free space bbolt needs", failed)
	}
}

// fill writes a file until the file system is full.
func fill(t *testing.T, dir string) {
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			return
		}
	}
}

// DeleteAfterUpload must not remove a file whose link could not be recorded
// anywhere: here the disk holding the state folder fills up during the
// upload, and the store runs without a link log (no room for it).
func TestDeleteAfterFailedRecord(t *testing.T) {
	mnt := mountSmall(t, "1m")
	f := newFixture(t, ziplinetest.RoleAdmin)
	f.state = filepath.Join(mnt, "state")
	if err := os.MkdirAll(filepath.Join(f.state, LinkLogFile), 0o700); err != nil { // the log is off
		t.Fatal(err)
	}
	cfg := f.config()
	cfg.DeleteAfterUpload = true
	cfg.NoIPC = true
	e := f.open(t, cfg)
	if e.st.log.offErr == nil {
		t.Fatal("log is on")
	}
	rec := recordEvents(t, e)
	f.srv.SetDelay("/api/upload", 300*time.Millisecond)
	// Long paths: each link's item, record and history entry take a few KiB,
	// more than bbolt's free pages, so its commit must grow the file.
	f.dir = filepath.Join(f.dir, strings.Repeat("d", 250), strings.Repeat("e", 250), strings.Repeat("f", 250), strings.Repeat("g", 250))
	os.MkdirAll(f.dir, 0o755)
	var paths []string
	for i := range 8 {
		p, _ := f.write(t, fmt.Sprintf("%s-%02d.png", strings.Repeat("x", 200), i), 100)
		if _, _, err := e.Add(p, AddOptions{}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	fill(t, mnt) // the disk fills while the uploads are under way
	rec.wait(t, 20*time.Second, "uploaded", func(evs []Event) bool { return len(uploadedPaths(evs)) == len(paths) })
	if err := e.Close(); err != nil { // the committer's last fold, and its removals
		t.Logf("close: %v", err)
	}
	os.Remove(filepath.Join(mnt, "filler")) // room again; start over
	e2 := f.open(t, cfg)
	h, err := e2.History(0)
	if err != nil {
		t.Fatal(err)
	}
	inHistory := map[string]bool{}
	for _, x := range h {
		inHistory[x.Path] = true
	}
	lost := 0
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil && !inHistory[p] {
			lost++
		}
	}
	t.Logf("%d uploads, %d in history", len(paths), len(h))
	if lost > 0 {
		t.Fatalf("%d local files deleted whose links were recorded nowhere (finishMany failed: disk full)", lost)
	}
}
