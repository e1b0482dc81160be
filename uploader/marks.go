package uploader

import (
	"math"
	"sync"
	"time"
)

// watchState is what the engine knows of a running Watch: the folders, so
// their last-watched marks can be saved.
type watchState struct {
	mu      sync.Mutex
	w       any // *Watcher while Watch runs
	folders []string
	slack   time.Duration
	ok      bool // marks may be saved (set once the watcher runs)
	run     uint64
	// prevSeen is, for each folder this run has, the run that had it
	// before (see seenKey), read before this run claimed it.
	prevSeen map[string]seen
}

type seen struct {
	run uint64
	ok  bool
}

// claim records that this run has the folders — watched or waiting for
// them to exist: a folder missing for a run never left the settings —
// keeping what the previous record said for catchUpSince.
func (ws *watchState) claim(e *Engine, folders []string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, f := range folders {
		if _, ok := ws.prevSeen[f]; ok {
			continue
		}
		n, ok, err := e.st.counter(seenKey(f))
		if err == nil {
			err = e.st.setCounter(seenKey(f), ws.run)
		}
		if err != nil {
			e.log.Warn("save last-watched mark", "folder", f, "err", err)
			continue // catchUpSince reads the store itself
		}
		ws.prevSeen[f] = seen{n, ok}
	}
}

// released is the seen record of a folder taken out of the settings: no
// run has that number (a first run's previous run is 0).
const released = math.MaxUint64

// release records that this run no longer has the folders (taken out of
// the settings): a later claim, in this run or the next, finds them new.
func (ws *watchState) release(e *Engine, folders []string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, f := range folders {
		delete(ws.prevSeen, f)
		if err := e.st.setCounter(seenKey(f), released); err != nil {
			e.log.Warn("save last-watched mark", "folder", f, "err", err)
		}
		if err := e.st.deleteHeld(f); err != nil {
			e.log.Warn("forget what a watched folder held", "folder", f, "err", err)
		}
	}
}

// saveMarks moves each watched folder's mark to now minus the slack. A
// folder that waits to exist, or cannot be watched, keeps its mark: files
// made in it meanwhile (a share, a card) are caught up when it is back,
// in this run or the next.
func (ws *watchState) saveMarks(e *Engine) {
	ws.mu.Lock()
	folders, ok, slack := ws.folders, ws.ok, ws.slack
	w, _ := ws.w.(*Watcher)
	ws.mu.Unlock()
	if !ok {
		return
	}
	watching := map[string]bool{}
	if w != nil {
		for _, st := range w.Status() {
			watching[st.Path] = st.State == FolderWatching
		}
	}
	t := time.Now().Add(-slack)
	for _, f := range folders {
		if w != nil && !watching[f] {
			continue
		}
		if err := e.st.setMark(f, t); err != nil {
			e.log.Warn("save last-watched mark", "folder", f, "err", err)
		}
	}
}

// Watch runs are numbered; each folder remembers the last run that watched
// it. A folder with a mark that was not watched by the previous run was
// removed from the settings and added back: it starts from now like a new
// folder, instead of catching up on everything since it was removed.
const runKey = "\x00run"

func seenKey(folder string) string { return "\x00seen:" + folder }

func (ws *watchState) summary() []FolderSummary {
	ws.mu.Lock()
	w, _ := ws.w.(*Watcher)
	ws.mu.Unlock()
	if w == nil {
		return nil
	}
	var out []FolderSummary
	for _, f := range w.Status() {
		out = append(out, FolderSummary{Path: f.Path, State: f.State, Error: f.Err})
	}
	return out
}
