package uploader

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// Passes (kept: no test sends a group with DeleteAfterUpload). The files of
// a group are deleted once their links are recorded, except one rewritten
// (same size) while the group's answer was on the way back: its new bytes
// were never uploaded, so it is kept.
func TestGroupReview2DeleteAfterUpload(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	gp := newGateProxyAfter(t, f)
	e, r, _ := hookedWorker(t, f, func(c *Config) { c.DeleteAfterUpload = true })
	release := occupy(t, f, e)
	paths, sums := queueAll(t, f, e, "da", 4, 1000)
	var once sync.Once
	e.memberHook = func(Item) { once.Do(gp.arm) }
	release()
	gp.waitHeld(t)
	rewritten := paths[1]
	info, err := os.Stat(rewritten)
	if err != nil {
		t.Fatal(err)
	}
	newer := make([]byte, info.Size())
	copy(newer, "rewritten in place, same size")
	if err := os.WriteFile(rewritten, newer, 0o644); err != nil {
		t.Fatal(err)
	}
	gp.open()
	r.wait(t, 30*time.Second, "4 uploads", func(evs []Event) bool {
		n := 0
		for _, p := range paths {
			n += eventsFor(evs, p, EventUploaded)
		}
		return n == 4
	})
	checkLinks(t, f, r, sums)
	testutil.WaitFor(t, 20*time.Second, "the removals", func() bool {
		e.commit.mu.Lock()
		defer e.commit.mu.Unlock()
		return e.commit.checked >= len(paths)
	})
	for _, p := range paths {
		_, err := os.Stat(p)
		switch {
		case p == rewritten && err != nil:
			t.Errorf("%s was rewritten after its bytes were sent, but was deleted: %v", filepath.Base(p), err)
		case p != rewritten && err == nil:
			t.Errorf("%s was uploaded in a group but not deleted", filepath.Base(p))
		}
	}
}
