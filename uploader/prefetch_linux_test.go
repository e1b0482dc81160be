//go:build linux

package uploader

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// The bytes the check reads are used only while the file is still the
// version it read: a rewrite of the same size with the mtime put back, or
// another file renamed over it with the same size and mtime, is read again.
func TestReadAheadOnlyForTheSameVersion(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "shot.png")
	orig := bytes.Repeat([]byte("a"), 3000)
	if err := os.WriteFile(p, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	os.Chtimes(p, old, old)

	// A file changed in the current clock tick is not read ahead (a change
	// in the same tick could keep its ctime): wait for the next.
	check := func(b *prefetchBudget) *prefetched {
		t.Helper()
		var c checked
		var err error
		testutil.WaitFor(t, 5*time.Second, "the file to be read ahead", func() bool {
			c, err = openForCheck(p, b)
			return err != nil || c.pre != nil
		})
		if err != nil || !c.noWriter {
			t.Fatalf("openForCheck = %+v, %v; want the bytes read under the lease", c, err)
		}
		return c.pre
	}
	var b prefetchBudget
	pre := check(&b)
	if b.used.Load() != int64(len(orig)) {
		t.Errorf("budget used %d, want %d", b.used.Load(), len(orig))
	}
	if fi, data, ok := pre.current(p); !ok || !bytes.Equal(data, orig) || fi.Size() != int64(len(orig)) {
		t.Fatalf("unchanged file: current = %v, %d bytes, %v; want the bytes read", fi, len(data), ok)
	}

	// Rewritten in place, same size, mtime put back: the ctime tells.
	if err := os.WriteFile(p, bytes.Repeat([]byte("b"), len(orig)), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, old, old)
	if _, _, ok := pre.current(p); ok {
		t.Error("a file rewritten with the same size and mtime still used the old bytes")
	}
	pre.release()
	pre.release() // only the first counts
	if b.used.Load() != 0 {
		t.Errorf("budget used %d after release, want 0", b.used.Load())
	}

	// Replaced by another file of the same size and mtime.
	pre = check(&b)
	other := filepath.Join(dir, "other.png")
	if err := os.WriteFile(other, bytes.Repeat([]byte("c"), len(orig)), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(other, old, old)
	if err := os.Rename(other, p); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := pre.current(p); ok {
		t.Error("a file replaced by another of the same size and mtime still used the old bytes")
	}
	pre.release()

	// Gone.
	pre = check(&b)
	os.Remove(p)
	if _, _, ok := pre.current(p); ok {
		t.Error("a deleted file still used the bytes read")
	}
	pre.release()
	if b.used.Load() != 0 {
		t.Errorf("budget used %d at the end, want 0", b.used.Load())
	}
}

// The read-ahead is bounded: no budget reads nothing, a file over
// prefetchFile is not read, and the total stays under prefetchMax.
func TestReadAheadBudget(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.png")
	if err := os.WriteFile(p, make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := openForCheck(p, nil); err != nil || c.pre != nil {
		t.Errorf("no budget: openForCheck = %+v, %v; want nothing read", c, err)
	}
	big := filepath.Join(dir, "big.mp4")
	if err := os.WriteFile(big, make([]byte, prefetchFile+1), 0o644); err != nil {
		t.Fatal(err)
	}
	var b prefetchBudget
	if c, err := openForCheck(big, &b); err != nil || c.pre != nil || b.used.Load() != 0 {
		t.Errorf("file over prefetchFile: pre %v, used %d, %v; want nothing read", c.pre != nil, b.used.Load(), err)
	}
	var held []*prefetched
	for range prefetchMax/prefetchFile + 2 {
		if b.take(prefetchFile) {
			held = append(held, &prefetched{data: make([]byte, prefetchFile), b: &b})
		}
	}
	if len(held) != prefetchMax/prefetchFile || b.used.Load() != prefetchMax {
		t.Errorf("took %d files, %d bytes; want %d, %d", len(held), b.used.Load(), prefetchMax/prefetchFile, prefetchMax)
	}
	if c, err := openForCheck(p, &b); err != nil || c.pre != nil {
		t.Errorf("budget full: pre %v, %v; want nothing read", c.pre != nil, err)
	}
	for _, h := range held {
		h.release()
	}
	if b.used.Load() != 0 {
		t.Errorf("budget used %d after releasing all, want 0", b.used.Load())
	}
}

// A file is uploaded from the bytes the watcher read. If it is rewritten
// while it waits its turn (same size, mtime put back), the new bytes are
// uploaded, not the ones read ahead, and nothing is held after. (Written in
// place: the gate's 200 ms put the check in a later clock tick than the
// write, so the bytes are read ahead on any kernel; see versionTells.)
func TestReadAheadRewrittenWhileWaiting(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.Concurrency = 1
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	watching(t, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}})
	moveIn := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(f.dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

	// The first is uploaded from the read-ahead bytes.
	first := bytes.Repeat([]byte("1"), 2000)
	p1 := moveIn("one.png", first)
	r.wait(t, 20*time.Second, "one.png uploaded", func(evs []Event) bool { return uploadedPaths(evs)[p1] == 1 })
	if h := e.preBudget.hits.Load(); h != 1 {
		t.Errorf("%d uploads from read-ahead bytes, want 1", h)
	}

	// The next waits behind a slow one, and is rewritten meanwhile.
	f.srv.SetDelay("/api/upload", 500*time.Millisecond)
	p2 := moveIn("slow.png", bytes.Repeat([]byte("2"), 2000))
	r.wait(t, 20*time.Second, "slow.png started", func(evs []Event) bool { return countType(evs, EventStarted) == 2 })
	before := bytes.Repeat([]byte("3"), 2000)
	p3 := moveIn("three.png", before)
	r.wait(t, 20*time.Second, "three.png queued", func(evs []Event) bool {
		for _, ev := range evs {
			if ev.Type == EventQueued && ev.Path == p3 {
				return true
			}
		}
		return false
	})
	e.mu.Lock()
	var held bool
	for _, id := range e.paths[p3] {
		held = held || e.pre[id] != nil
	}
	e.mu.Unlock()
	if !held {
		t.Fatal("three.png waits without its bytes read ahead: nothing to test")
	}
	st, err := os.Stat(p3)
	if err != nil {
		t.Fatal(err)
	}
	after := bytes.Repeat([]byte("4"), len(before))
	if err := os.WriteFile(p3, after, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p3, st.ModTime(), st.ModTime())
	f.srv.SetDelay("/api/upload", 0)
	r.wait(t, 20*time.Second, "all uploaded", func(evs []Event) bool {
		u := uploadedPaths(evs)
		return u[p2] == 1 && u[p3] >= 1
	})
	counts := f.serverCounts()
	if counts[sum(before)] != 0 {
		t.Error("the bytes read before the rewrite were uploaded")
	}
	if counts[sum(after)] != 1 {
		t.Errorf("the rewritten file is on the server %d times, want 1", counts[sum(after)])
	}
	if u := e.preBudget.used.Load(); u != 0 {
		t.Errorf("%d read-ahead bytes still held after every upload", u)
	}
	if h := e.preBudget.hits.Load(); h != 2 {
		t.Errorf("%d uploads from read-ahead bytes, want 2 (not the rewritten one)", h)
	}
}
