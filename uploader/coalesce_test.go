package uploader

import (
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// statOpts is how the watcher hands a file over: with its size and mtime.
func statOpts(t *testing.T, p string) AddOptions {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return AddOptions{Source: SourceWatch, Size: fi.Size(), ModTime: fi.ModTime()}
}

var touchClock = time.Now()

// touchLater gives the file a later mtime than any before (no sleeping).
func touchLater(t *testing.T, p string) {
	touchClock = touchClock.Add(time.Second)
	if err := os.Chtimes(p, touchClock, touchClock); err != nil {
		t.Fatal(err)
	}
}

// A changed file re-detected while an older item of its path still waits
// updates that item, also after a newer item of the path (an explicit,
// forced upload) was cancelled: the path index keeps every item of a path,
// not only the newest (it once forgot the path, and the file went twice).
func TestCoalesceAfterNewerCancelled(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	e.mu.Lock()
	e.paused = true // keep everything waiting (as after a 401)
	e.mu.Unlock()
	p, _ := f.write(t, "shot.png", 2000)
	a := e.addMany([]addReq{{path: p, o: statOpts(t, p)}})[0] // the watcher
	o := statOpts(t, p)
	o.Force, o.Source = true, SourceUser // the user uploads it explicitly too
	b := e.addMany([]addReq{{path: p, o: o}})[0]
	if !a.added || !b.added {
		t.Fatalf("adds: %+v %+v", a, b)
	}
	if err := e.Cancel(b.it.ID); err != nil { // ...and cancels that
		t.Fatal(err)
	}
	_, newSum := f.write(t, "shot.png", 3000)
	touchLater(t, p)
	again := e.addMany([]addReq{{path: p, o: statOpts(t, p)}})[0]
	if again.added || again.it.ID != a.it.ID {
		t.Errorf("re-detected changed file: added=%v item %d, want item %d (still waiting) updated", again.added, again.it.ID, a.it.ID)
	}
	e.CredentialsChanged() // resume
	r.wait(t, 20*time.Second, "uploads", func(evs []Event) bool {
		return len(e.Queue()) == 0
	})
	if c := f.serverCounts(); c[newSum] != 1 {
		t.Errorf("server got the new version %d times, want 1", c[newSum])
	}
}

// Same without Force or Cancel: an item that failed for good is retried
// after a newer item of its path was uploaded; the next change updates it.
func TestCoalesceRetriedOlder(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.Concurrency = 1
	e := f.open(t, cfg)
	r := recordEvents(t, e)
	f.srv.FailNext(1, ziplinetest.Failure{Path: "/api/upload", Status: http.StatusBadRequest})
	p, _ := f.write(t, "shot.png", 2000)
	a := e.addMany([]addReq{{path: p, o: statOpts(t, p)}})[0]
	r.wait(t, 20*time.Second, "permanent failure", func(evs []Event) bool { return countType(evs, EventFailed) == 1 })
	f.write(t, "shot.png", 2500)
	touchLater(t, p)
	b := e.addMany([]addReq{{path: p, o: statOpts(t, p)}})[0] // a new item: A is not waiting
	if !b.added {
		t.Fatalf("b: %+v", b)
	}
	r.wait(t, 20*time.Second, "b uploaded", func(evs []Event) bool { return countType(evs, EventUploaded) == 1 })
	e.mu.Lock()
	e.paused = true
	e.mu.Unlock()
	if err := e.Retry(a.it.ID); err != nil {
		t.Fatal(err)
	}
	f.write(t, "shot.png", 3000)
	touchLater(t, p)
	again := e.addMany([]addReq{{path: p, o: statOpts(t, p)}})[0]
	if again.added || again.it.ID != a.it.ID {
		t.Errorf("re-detected changed file: added=%v item %d, want retried item %d updated", again.added, again.it.ID, a.it.ID)
	}
}
