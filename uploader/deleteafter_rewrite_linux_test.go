//go:build linux

package uploader

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
)

// With DeleteAfterUpload, a file rewritten after its upload started (same
// size) must not be deleted: the server has only its old bytes. On a file
// system with 1 s timestamps a rewrite in the same second keeps the mtime
// and the ctime, so only the content tells (found by review: it was
// deleted, its new bytes lost on both sides).
func TestDeleteAfterUploadKeepsRewriteCoarse(t *testing.T) {
	mnt := mountCoarseFS(t)
	rewriteDuringUpload(t, mnt, false)
}

// The same on an ordinary (nanosecond) file system, by a tool that keeps
// the file's mtime when it rewrites it (exiftool -P, cp -p, touch -r).
func TestDeleteAfterUploadKeepsRewriteMtimeKept(t *testing.T) {
	rewriteDuringUpload(t, t.TempDir(), true)
}

func rewriteDuringUpload(t *testing.T, root string, putMtimeBack bool) {
	f, e, r, watched, tmp := oneAtATime(t, root, true)

	for attempt := range 4 {
		f.srv.SetDelay("/api/upload", 1500*time.Millisecond)
		if !putMtimeBack {
			// Start just after a second boundary, so what follows fits in one second.
			now := time.Now()
			time.Sleep(now.Truncate(time.Second).Add(time.Second + 20*time.Millisecond).Sub(now))
		}
		name := "shot" + string(rune('a'+attempt)) + ".png"
		before := bytes.Repeat([]byte{byte('A' + attempt)}, 4000)
		after := bytes.Repeat([]byte{byte('a' + attempt)}, len(before))
		src, p := filepath.Join(tmp, name), filepath.Join(watched, name)
		if err := os.WriteFile(src, before, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(src, p); err != nil {
			t.Fatal(err)
		}
		r.wait(t, 20*time.Second, "the shot started", func(evs []Event) bool {
			for _, ev := range evs {
				if ev.Type == EventStarted && ev.Path == p {
					return true
				}
			}
			return false
		})
		// The upload request is at the server: the bytes were read.
		testutil.WaitFor(t, 10*time.Second, "the upload request to reach the server", func() bool { return f.srv.InFlight() > 0 })
		st1 := statT(t, p)
		if err := os.WriteFile(p, after, 0o644); err != nil { // in place, same size
			t.Fatal(err)
		}
		if putMtimeBack {
			mt := time.Unix(st1.Mtim.Unix())
			if err := os.Chtimes(p, mt, mt); err != nil {
				t.Fatal(err)
			}
		}
		st2 := statT(t, p)
		f.srv.SetDelay("/api/upload", 0)
		r.wait(t, 20*time.Second, "the shot uploaded", func(evs []Event) bool { return uploadedPaths(evs)[p] == 1 })
		if st1.Ino != st2.Ino || st1.Size != st2.Size || st1.Mtim != st2.Mtim {
			t.Logf("attempt %d: the rewrite changed the mtime (%v -> %v); again", attempt, st1.Mtim, st2.Mtim)
			continue
		}
		// The removal runs after the fold that syncs the link.
		testutil.WaitFor(t, 10*time.Second, "the file to be checked for removal", func() bool {
			c := &e.commit
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.checked > attempt
		})
		got, err := os.ReadFile(p)
		counts := f.serverCounts()
		if err != nil && counts[sha256hex(after)] == 0 {
			t.Fatalf("the file was rewritten (ctime %v -> %v) after its upload started and was deleted after the upload, but the server only has its old bytes (%d) and never got the new ones: they are lost",
				st1.Ctim, st2.Ctim, counts[sha256hex(before)])
		}
		if err == nil && !bytes.Equal(got, after) {
			t.Errorf("the local file holds %q..., want the rewritten bytes", got[:8])
		}
		return
	}
	t.Skip("could not rewrite the file keeping its mtime")
}
