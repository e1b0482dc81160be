package uploader

import (
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
}

// saveMarks moves each watched folder's mark to now minus the slack.
func (ws *watchState) saveMarks(e *Engine) {
	ws.mu.Lock()
	folders, ok, slack := ws.folders, ws.ok, ws.slack
	ws.mu.Unlock()
	if !ok {
		return
	}
	t := time.Now().Add(-slack)
	for _, f := range folders {
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
