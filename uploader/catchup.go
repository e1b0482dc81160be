package uploader

import (
	"context"
	"slices"
	"sync"
	"time"
)

// AutoConfig configures Engine.Watch: which folders feed the queue.
type AutoConfig struct {
	Folders []WatchFolder
	// Include are the extensions to take (nil: DefaultInclude; empty: all).
	Include []string
	// CatchUp uploads files that appeared in a watched folder while nothing
	// ran: those modified after the folder's last-watched mark, and those
	// moved or copied in since with an older mtime (see Watch). A folder
	// seen for the first time starts from now, so adding ~/Pictures never
	// uploads years of old pictures.
	CatchUp          bool
	Debounce, Settle time.Duration
	// MarkEvery is how often the last-watched marks are saved (default 30 s).
	MarkEvery time.Duration
	// OneOff marks a run with folders other than the configured ones
	// (`watch DIR`): it does not count as "the previous run" when deciding
	// whether a configured folder was removed and added back.
	OneOff bool
}

// markSlack keeps a folder's mark behind "now" by more than a file can spend
// between its last write and the watcher reporting it, so a file still
// settling at a crash is caught up on the next start. A file seen twice is
// queued once (see AddOptions.Force).
const markSlack = time.Minute

// Watch watches the folders and queues every finished file they receive,
// first catching up on files that arrived while nothing ran (the watcher
// scans each folder once its watch is in place, so nothing falls between).
// The catch-up takes files modified after the folder's mark, and files
// that arrived after it with an older mtime (mv, cp -a, Syncthing): a
// ctime after the mark, and neither the name nor the inode of a file the
// folder held when it last started being watched (heldFiles) — so an old
// picture whose inode changed (chmod, a hard-link backup), restored from a
// backup, or renamed, is never uploaded by surprise. Windows has no ctime
// there: the mtime alone.
// It returns nil when ctx ends, or an error if the watcher cannot start.
func (e *Engine) Watch(ctx context.Context, ac AutoConfig) error {
	slack := markSlack + ac.Debounce + ac.Settle
	var folders []string
	for _, f := range ac.Folders {
		p, err := cleanFolderPath(f.Path)
		if err != nil {
			return err
		}
		folders = append(folders, p)
	}
	prevRun, _, err := e.st.counter(runKey)
	if err != nil {
		return err
	}
	run := prevRun
	if !ac.OneOff {
		run++
	}
	w, err := NewWatcher(WatcherConfig{
		Folders: ac.Folders, Include: ac.Include, Debounce: ac.Debounce, Settle: ac.Settle, Logger: e.log,
		prefetch: &e.preBudget,
		CatchUp:  func(folder string) (time.Time, bool) { return e.catchUpSince(folder, ac.CatchUp, prevRun, run) },
		held: func(folder string) *heldFiles {
			h, err := e.st.held(folder)
			if err != nil {
				e.log.Warn("read what a watched folder held", "folder", folder, "err", err)
			}
			return h
		},
		setHeld: func(folder string, h *heldFiles) {
			if err := e.st.setHeld(folder, h); err != nil {
				e.log.Warn("save what a watched folder holds", "folder", folder, "err", err)
			}
		},
		// Only a watcher that started counts as a run and has the folders:
		// one that could not (no inotify instances left) counts no run,
		// claims no folder and moves no mark, so the next start catches
		// up as if it had never been tried.
		started: func() {
			if run != prevRun {
				if err := e.st.setCounter(runKey, run); err != nil {
					e.log.Warn("save last-watched mark", "err", err)
				}
			}
			e.watch.mu.Lock()
			e.watch.ok = true
			folders := e.watch.folders
			e.watch.mu.Unlock()
			e.watch.claim(e, folders)
		},
	})
	if err != nil {
		return err
	}
	e.watch.mu.Lock()
	e.watch.w, e.watch.folders, e.watch.slack = w, folders, slack
	e.watch.run, e.watch.prevSeen = run, map[string]seen{}
	e.watch.mu.Unlock()
	defer func() {
		e.watch.saveMarks(e)
		e.watch.mu.Lock()
		e.watch.w, e.watch.ok = nil, false
		e.watch.mu.Unlock()
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The watcher hands files over one at a time; they are gathered and
	// recorded together, so a burst of 500 costs a few disk syncs, not 500.
	// A file handed over but not yet recorded at a crash is older than no
	// mark (see markSlack) and is caught up on the next start.
	var mu sync.Mutex
	var pending []addReq
	wake := make(chan struct{}, 1)
	ready := func(d Detected) {
		mu.Lock()
		pending = append(pending, addReq{d.Path, AddOptions{Source: SourceWatch, Folder: d.Folder, Size: d.Size, ModTime: d.ModTime}, d.pre})
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	commit := func() {
		mu.Lock()
		batch := pending
		pending = nil
		mu.Unlock()
		if len(batch) == 0 {
			return
		}
		var again []addReq
		for i, r := range e.addMany(batch) {
			if r.err != nil {
				e.log.Error("queue a detected file", "path", batch[i].path, "err", r.err, "will_retry", r.retry)
			}
			if r.retry {
				again = append(again, batch[i])
			}
		}
		if len(again) > 0 {
			// The queue could not be written (a full disk?): keep the files
			// and try again shortly, never drop them.
			mu.Lock()
			pending = append(again, pending...)
			mu.Unlock()
			time.AfterFunc(5*time.Second, func() {
				select {
				case wake <- struct{}{}:
				default:
				}
			})
		}
	}
	defer func() {
		// Files that could not be recorded when the watcher stopped are
		// caught up at the next start; their read-ahead bytes go back.
		mu.Lock()
		for _, r := range pending {
			r.pre.release()
		}
		mu.Unlock()
	}()
	errc := make(chan error, 1)
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		errc <- w.Run(ctx, ready)
	}()
	intakeDone := make(chan struct{})
	go func() {
		defer close(intakeDone)
		for {
			select {
			case <-wake:
				commit()
			case <-runDone:
				commit() // Run handed over everything that settled
				return
			}
		}
	}()
	every := ac.MarkEvery
	if every <= 0 {
		every = 30 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case err := <-errc:
			<-intakeDone
			if ctx.Err() != nil {
				return nil
			}
			return err
		case <-tick.C:
			e.watch.saveMarks(e)
		}
	}
}

// catchUpSince answers the watcher's question for a folder it starts to
// watch: a folder new to zipline-tray gets a mark of now and no catch-up;
// a known one is scanned from its mark if catch-up is on.
func (e *Engine) catchUpSince(folder string, catchUp bool, prevRun, run uint64) (time.Time, bool) {
	m, ok, err := e.st.mark(folder)
	if err != nil {
		e.log.Warn("read last-watched mark", "folder", folder, "err", err)
		return time.Time{}, false
	}
	e.watch.mu.Lock()
	prev, claimed := e.watch.prevSeen[folder]
	e.watch.mu.Unlock()
	if !claimed {
		prev.run, prev.ok, _ = e.st.counter(seenKey(folder))
		if err := e.st.setCounter(seenKey(folder), run); err != nil {
			e.log.Warn("save last-watched mark", "folder", folder, "err", err)
		}
	}
	seen, seenOK := prev.run, prev.ok
	// New, or removed and added back (not watched by the previous run).
	if !ok || seenOK && seen != prevRun && seen != run {
		if err := e.st.setMark(folder, time.Now()); err != nil {
			e.log.Warn("save last-watched mark", "folder", folder, "err", err)
		}
		// What it held before it was taken out is not what it holds.
		if err := e.st.deleteHeld(folder); err != nil {
			e.log.Warn("forget what a watched folder held", "folder", folder, "err", err)
		}
		return time.Time{}, false
	}
	if !catchUp || m.IsZero() {
		return time.Time{}, false
	}
	e.log.Debug("catching up on files that arrived while nothing ran", "folder", folder, "since", m)
	return m, true
}

// SetWatchFolders changes the watched folders of a running Watch. Folders
// new to zipline-tray start from now (nothing already there is uploaded).
func (e *Engine) SetWatchFolders(folders []WatchFolder) error {
	var paths []string
	for _, f := range folders {
		p, err := cleanFolderPath(f.Path)
		if err != nil {
			return err
		}
		paths = append(paths, p)
	}
	e.watch.mu.Lock()
	w, _ := e.watch.w.(*Watcher)
	var removed []string
	if w != nil {
		for _, old := range e.watch.folders {
			if !slices.Contains(paths, old) {
				removed = append(removed, old)
			}
		}
		e.watch.folders = paths
	}
	started := e.watch.ok
	e.watch.mu.Unlock()
	if w == nil {
		return nil
	}
	// A folder taken out is no longer this run's: added back, now or at a
	// later start, it starts from then, like a new one.
	e.watch.release(e, removed)
	if started { // else the started hook claims the list
		e.watch.claim(e, paths)
	}
	return w.SetFolders(folders)
}

// WatcherStatus is the live status of the watched folders (nil when not watching).
func (e *Engine) WatcherStatus() []FolderStatus {
	e.watch.mu.Lock()
	w, _ := e.watch.w.(*Watcher)
	e.watch.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.Status()
}
