package uploader

// The folder watcher. One goroutine (Run) owns the fsnotify watcher, the
// per-path debounce timers (a heap behind one time.Timer, so an idle watcher
// costs nothing) and the stability gate; a second goroutine hands settled
// files to the ready callback, so a slow callback never stalls the reading
// of events.

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Folder states shown by Watcher.Status.
const (
	FolderWatching = "watching"
	FolderWaiting  = "waiting for folder to exist"
	FolderError    = "error"
)

// Gate defaults. 100 ms of quiet is what fsnotify's own dedup example uses;
// the second check another 100 ms later catches writers that pause between
// writes without sending events (and file systems that coalesce them).
const (
	DefaultDebounce = 100 * time.Millisecond
	DefaultSettle   = 100 * time.Millisecond
)

// movedInQuiet is how long a file that arrived complete-looking with its
// Create waits for a Write that would show it is being written in place.
// Screenshot tools write under a temporary name (or elsewhere) and rename
// the finished file in: its Create comes alone. A file written in place
// sends Writes after its Create, and they are queued before the writer
// closes it, so a few milliseconds of reading events is enough to see them.
const movedInQuiet = 5 * time.Millisecond

const (
	// rootBuffer is the ReadDirectoryChangesW buffer of a watched folder's
	// root (fsnotify's default, 64 KiB, overflows on bursts); subfolders
	// keep the default, as each watch holds its own buffer. A no-op
	// elsewhere.
	rootBuffer = 512 << 10
	// rescanDelay gathers a run of watcher errors into one rescan.
	rescanDelay = 250 * time.Millisecond
	// retryEvery is how often folders in the error state are retried.
	retryEvery = 30 * time.Second
	// maxRecheck caps the back-off for a stable file that is still open for
	// writing (or cannot be opened yet): the longest a file closed after a
	// long idle stretch waits for its report.
	maxRecheck = 2 * time.Second
	// reportedKeep is how long a reported version is remembered to suppress
	// duplicates from trailing events and rescans; the engine's own record
	// de-duplicates beyond that.
	reportedKeep = 10 * time.Minute
)

// WatchFolder is a folder to watch.
type WatchFolder struct {
	Path      string
	Recursive bool
}

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	Folders []WatchFolder
	// Include lists the reported extensions, without the dot; case does
	// not matter. nil means DefaultInclude; empty (non-nil) means all.
	Include []string
	// Debounce is the quiet time after the last event for a path before its
	// first check (default DefaultDebounce).
	Debounce time.Duration
	// Settle is the time between the two checks that must agree on size and
	// mtime (default DefaultSettle). A file is reported no sooner than
	// Debounce+Settle after its last event, except one renamed in complete
	// where the writer check is possible (see movedInQuiet).
	Settle time.Duration
	// CatchUp, when set, is asked for each folder when Run (or SetFolders)
	// first places it, before it may wait to exist; once it is watched, the
	// files that arrived after the returned time are reported (see
	// arrivedSince). Scanning after the watch is in place leaves no gap
	// between catch-up and watching. ok false: no catch-up.
	CatchUp func(folder string) (since time.Time, ok bool)
	Logger  *slog.Logger
	// started is called once Run watches (before any CatchUp question).
	started func()
	// prefetch, when set, lets the check read small files ahead (see
	// prefetched); the bytes go with Detected.
	prefetch *prefetchBudget
	// held, when set, gives what a folder held when it last started being
	// watched (nil: not known). With it the catch-up also takes files that
	// arrived since with an old mtime (moved in, or copied with their
	// times kept); see arrivedSince.
	held func(folder string) *heldFiles
	// setHeld, when set, is given what a folder holds when it starts being
	// watched, less the files the catch-up takes (the queue records those).
	setHeld func(folder string, h *heldFiles)
}

// Detected is a file that settled in a watched folder.
type Detected struct {
	Path    string // absolute
	Folder  string // the watched folder (as cleaned) it was found under
	Size    int64
	ModTime time.Time
	pre     *prefetched // its bytes, read by the check (WatcherConfig.prefetch)
}

// FolderStatus is the live state of one watched folder.
type FolderStatus struct {
	Path      string
	Recursive bool
	State     string // FolderWatching, FolderWaiting or FolderError
	Err       string // why, for FolderError (or a partial problem while watching)
	Since     time.Time
	Parent    string // FolderWaiting: the existing ancestor watched meanwhile
}

// Watcher reports files that appear or change in folders once they are
// complete. Create with NewWatcher, start with Run.
type Watcher struct {
	log      *slog.Logger
	include  []string
	debounce time.Duration
	settle   time.Duration
	catchUp  func(string) (time.Time, bool)
	started  func()
	prefetch *prefetchBudget
	held     func(string) *heldFiles
	setHeld  func(string, *heldFiles)

	retry time.Duration // retryEvery, shorter in tests

	// Test hooks: see the fsnotify watcher, drop chosen events.
	testFS   func(*fsnotify.Watcher)
	testDrop func(fsnotify.Event) bool

	mu      sync.Mutex
	want    []WatchFolder  // configured folders, cleaned
	status  []FolderStatus // published by the run loop
	running bool
	changed chan struct{} // cap 1: want changed while running
}

// NewWatcher checks cfg and returns a watcher that is not running yet.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	if cfg.Debounce < 0 || cfg.Settle < 0 {
		return nil, errors.New("watcher: negative debounce or settle time")
	}
	w := &Watcher{
		log:      cfg.Logger,
		include:  normalizeInclude(cfg.Include),
		debounce: cfg.Debounce,
		settle:   cfg.Settle,
		catchUp:  cfg.CatchUp,
		started:  cfg.started,
		prefetch: cfg.prefetch,
		held:     cfg.held,
		setHeld:  cfg.setHeld,
		retry:    retryEvery,
		changed:  make(chan struct{}, 1),
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.debounce == 0 {
		w.debounce = DefaultDebounce
	}
	if w.settle == 0 {
		w.settle = DefaultSettle
	}
	if err := w.SetFolders(cfg.Folders); err != nil {
		return nil, err
	}
	return w, nil
}

// SetFolders replaces the watched folders; a running watcher applies the
// change at once. New folders get the CatchUp scan; removed ones stop being
// watched. Duplicate paths are merged (recursive wins).
func (w *Watcher) SetFolders(folders []WatchFolder) error {
	var want []WatchFolder
	index := map[string]int{}
	for _, f := range folders {
		p, err := cleanFolderPath(f.Path)
		if err != nil {
			return err
		}
		if i, ok := index[p]; ok {
			want[i].Recursive = want[i].Recursive || f.Recursive
			continue
		}
		index[p] = len(want)
		want = append(want, WatchFolder{Path: p, Recursive: f.Recursive})
	}
	w.mu.Lock()
	w.want = want
	if !w.running {
		w.status = make([]FolderStatus, len(want))
		for i, f := range want {
			w.status[i] = FolderStatus{Path: f.Path, Recursive: f.Recursive}
		}
	}
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return nil
}

// Status returns the state of each configured folder. Before Run has looked
// at a folder its State is empty.
func (w *Watcher) Status() []FolderStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]FolderStatus(nil), w.status...)
}

// cleanFolderPath makes a configured folder absolute, expanding a leading ~.
func cleanFolderPath(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", errors.New("watch folder: empty path")
	}
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("watch folder %s: %w", p, err)
		}
		p = filepath.Join(home, p[1:])
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("watch folder %s: %w", p, err)
	}
	return abs, nil
}

// newFSWatcher is fsnotify.NewWatcher; tests make it fail (as when the
// system's inotify instances are used up).
var newFSWatcher = fsnotify.NewWatcher

// Run watches until ctx is done, calling ready once for each settled version
// of a file (a later, different size or mtime is reported again). ready is
// called from a single goroutine, one call at a time; it may block without
// stalling the watching, and files that settled before ctx ended are still
// handed over before Run returns. Run returns nil when ctx ends, or an error
// if the watcher cannot start. Only one Run at a time.
func (w *Watcher) Run(ctx context.Context, ready func(Detected)) error {
	if ready == nil {
		return errors.New("watcher: nil ready callback")
	}
	w.mu.Lock()
	if w.running {
		w.mu.Unlock()
		return errors.New("watcher: already running")
	}
	w.running = true
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.running = false
		w.mu.Unlock()
	}()

	fw, err := newFSWatcher()
	if err != nil {
		return fmt.Errorf("start folder watcher: %w", explainWatchErr(err))
	}
	if w.started != nil {
		w.started()
	}
	out := newWatchOutbox()
	r := &watchRun{
		w:          w,
		fw:         fw,
		out:        out,
		watched:    map[string]bool{},
		pending:    map[string]*watchPending{},
		reported:   map[string]reportedVersion{},
		unreadable: map[string]bool{},
		ahead:      map[string]*prefetched{},
		timer:      time.NewTimer(time.Hour),
		maint:      time.NewTimer(time.Hour),
	}
	r.timer.Stop()
	r.maint.Stop()
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		out.run(ready)
	}()
	// Keep reading while closing: Close waits for fsnotify's reader
	// goroutine, which may be blocked sending to us.
	defer func() {
		r.timer.Stop()
		r.maint.Stop()
		r.staleAhead() // changes are no longer seen
		closed := make(chan struct{})
		go func() { fw.Close(); close(closed) }()
		evs, errs := fw.Events, fw.Errors
	drain:
		for {
			select {
			case _, ok := <-evs:
				if !ok {
					evs = nil
				}
			case _, ok := <-errs:
				if !ok {
					errs = nil
				}
			case <-closed:
				break drain
			}
		}
		out.close()
		<-delivered
	}()

	if w.testFS != nil {
		w.testFS(fw)
	}
	select {
	case <-w.changed: // apply reads the folders anyway
	default:
	}
	r.apply()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return errors.New("folder watcher stopped")
			}
			if w.testDrop == nil || !w.testDrop(ev) {
				r.event(ev)
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return errors.New("folder watcher stopped")
			}
			r.watchErr(err)
		case <-r.timer.C:
			r.armed = time.Time{}
			r.fire()
		case <-r.maint.C:
			r.maintain()
		case <-w.changed:
			r.apply()
		}
	}
}

// runFolder is the run loop's view of a configured folder.
type runFolder struct {
	WatchFolder
	state   string
	err     string
	since   time.Time // state entered
	waitOn  string    // existing ancestor watched while waiting
	started time.Time // became watched: older changes were not ours to see
	// The catch-up, asked when the folder is first placed in this run (it
	// may wait to exist), done when it is first watched.
	catchUp  func(string, fs.FileInfo) bool
	caughtUp bool
	held     *heldFiles // what it held when it started being watched
}

type reportedVersion struct {
	size int64
	mod  time.Time
	at   time.Time
}

// watchPending is a path between an event and its report.
type watchPending struct {
	path, folder string
	due          time.Time
	idx          int  // heap index
	seen         bool // size/mod hold the previous check
	size         int64
	mod          time.Time
	waits        int  // stable but could not be opened
	movedIn      bool // Create of a complete-looking file, no Write yet
	races        int  // times it changed between the stat and the check
}

// maxRaces is how often a file changing between the gate's stat and its
// writer check sends it back to settle before the stat alone decides.
const maxRaces = 5

type watchRun struct {
	w   *Watcher
	fw  *fsnotify.Watcher
	out *watchOutbox

	folders  []*runFolder
	watched  map[string]bool // folders added to fw
	pending  map[string]*watchPending
	queue    pendingHeap
	timer    *time.Timer
	armed    time.Time // when timer fires; zero when stopped
	maint    *time.Timer
	rescan   bool // a rescan is due at the next maint tick
	aliases  bool // a folder is a symlink: a directory may be watched by two paths
	reported map[string]reportedVersion
	sweepAt  int // len(reported) that triggers the next sweep
	// unreadable holds files given up on for lack of permission; a chmod
	// brings them back.
	unreadable map[string]bool
	// ahead holds the read-ahead bytes reported, by path: any event for
	// the path makes them stale (see prefetched).
	ahead        map[string]*prefetched
	aheadSweepAt int
}

// apply takes the configured folders, keeps the state of those that
// remain, and reconciles the watches.
func (r *watchRun) apply() {
	r.w.mu.Lock()
	want := append([]WatchFolder(nil), r.w.want...)
	r.w.mu.Unlock()
	old := map[string]*runFolder{}
	for _, f := range r.folders {
		old[f.Path] = f
	}
	r.folders = r.folders[:0:0]
	for _, wf := range want {
		if f, ok := old[wf.Path]; ok {
			if f.Recursive == wf.Recursive {
				r.folders = append(r.folders, f)
				continue
			}
			// Recursion changed: re-add with the old state so no catch-up
			// scan runs, but the new tree is walked.
			f.Recursive = wf.Recursive
			r.folders = append(r.folders, f)
			continue
		}
		r.folders = append(r.folders, &runFolder{WatchFolder: wf})
	}
	r.staleAhead() // a folder may no longer be watched
	r.reconcile(true)
}

// staleAhead marks every reported read-ahead as stale.
func (r *watchRun) staleAhead() {
	for path, p := range r.ahead {
		p.stale.Store(true)
		delete(r.ahead, path)
	}
}

// reconcile makes the fsnotify watches match the folders: each existing
// folder (and its subfolders when recursive) is watched; a missing one has
// its nearest existing ancestor watched instead. Folders that just became
// watched are scanned. full false only looks again at the folders that are
// not being watched (waiting, error), without walking the watched trees.
func (r *watchRun) reconcile(full bool) {
	now := time.Now()
	desired := map[string]bool{}
	type scan struct {
		f    *runFolder
		take func(rel string, fi fs.FileInfo) bool
	}
	var scans []scan
	var oldParents []string
	for _, f := range r.folders {
		prev, prevSince := f.state, f.since
		if !full && prev == FolderWatching {
			continue
		}
		if f.waitOn != "" {
			oldParents = append(oldParents, f.waitOn)
		}
		if prev == "" && !f.caughtUp && f.catchUp == nil && r.w.catchUp != nil {
			if since, ok := r.w.catchUp(f.Path); ok {
				var held *heldFiles
				if r.w.held != nil {
					held = r.w.held(f.Path)
				}
				f.catchUp = arrivedSince(since, held)
			}
		}
		state, errText, waitOn := r.place(f, desired)
		if state != prev || errText != f.err || waitOn != f.waitOn {
			if state != prev {
				f.since = now
			}
			f.state, f.err, f.waitOn = state, errText, waitOn
			r.w.log.Info("watch folder", "folder", f.Path, "state", state, "err", errText, "parent", waitOn)
		}
		if state != FolderWatching || prev == FolderWatching {
			continue
		}
		f.started = now
		var take func(string, fs.FileInfo) bool
		if prev == FolderWaiting || prev == FolderError {
			// Take what was written since the folder was last missing (or
			// broken): the files made between its mkdir and our Add. Older
			// files in a folder that appears (a mounted drive, a restored
			// backup) were not made while we waited and are left alone.
			take = changedSince(prevSince.Add(-2*time.Second), false)
		}
		if !f.caughtUp && f.catchUp != nil {
			take = either(take, f.catchUp)
		}
		f.caughtUp = true
		// Walked even with nothing to take: a rescan and the next start
		// need what it holds now.
		if take != nil || haveChangeTime {
			scans = append(scans, scan{f, take})
		}
	}
	if full {
		for dir := range r.watched {
			if !desired[dir] {
				r.unwatch(dir)
			}
		}
	} else {
		for _, dir := range oldParents {
			if !desired[dir] && !r.needed(dir) {
				r.unwatch(dir)
			}
		}
	}
	for path, p := range r.pending {
		if f, ok := r.folderFor(path); !ok {
			r.drop(p) // its folder is no longer watched
		} else {
			p.folder = f.Path
		}
	}
	r.publish()
	for _, s := range scans {
		r.scan(s.f, s.take, true)
	}
	r.armMaint()
}

// place works out how to watch f, adding watches (recorded in desired).
func (r *watchRun) place(f *runFolder, desired map[string]bool) (state, errText, waitOn string) {
	if li, err := os.Lstat(f.Path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		r.aliases = true
	}
	fi, err := os.Stat(f.Path)
	switch {
	case err == nil && !fi.IsDir():
		return FolderError, f.Path + " is a file, not a folder; choose a folder to watch", ""
	case err == nil:
		if err := r.add(f.Path, true); err != nil {
			return FolderError, explainWatchErr(err).Error(), ""
		}
		desired[f.Path] = true
		if !f.Recursive {
			return FolderWatching, "", ""
		}
		werr := walkFolder(f.Path, true, func(dir string) error {
			if dir == f.Path {
				return nil
			}
			if err := r.add(dir, false); err != nil {
				return explainWatchErr(err)
			}
			desired[dir] = true
			return nil
		}, nil, nil)
		if werr != nil {
			r.w.log.Warn("watch subfolders", "folder", f.Path, "err", werr)
			return FolderWatching, "some subfolders are not watched: " + werr.Error(), ""
		}
		return FolderWatching, "", ""
	case errors.Is(err, fs.ErrNotExist):
		dir := f.Path
		for {
			parent := filepath.Dir(dir)
			if parent == dir {
				return FolderError, "no existing parent folder of " + f.Path, ""
			}
			dir = parent
			pfi, err := os.Stat(dir)
			if err != nil || !pfi.IsDir() {
				continue
			}
			if err := r.add(dir, false); err != nil {
				return FolderError, "cannot watch " + dir + " for the folder to appear: " + explainWatchErr(err).Error(), ""
			}
			desired[dir] = true
			// The folder may have appeared between the Stat and the Add.
			if _, err := os.Stat(f.Path); err == nil {
				return r.place(f, desired)
			}
			return FolderWaiting, "", dir
		}
	default:
		return FolderError, err.Error(), ""
	}
}

// needed reports whether dir is watched on behalf of some folder: inside a
// watched one, or the ancestor a waiting one hangs on.
func (r *watchRun) needed(dir string) bool {
	for _, f := range r.folders {
		switch {
		case f.waitOn == dir:
			return true
		case f.state == FolderWatching && (f.Path == dir || (f.Recursive && within(dir, f.Path))):
			return true
		}
	}
	return false
}

// add watches dir (idempotent); a root gets the larger buffer, or the
// default where the large one is refused (SMB shares take at most 64 KiB).
func (r *watchRun) add(dir string, root bool) error {
	if r.watched[dir] {
		return nil
	}
	var err error
	if root {
		err = r.fw.AddWith(dir, fsnotify.WithBufferSize(rootBuffer))
	}
	if !root || (err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission)) {
		err = r.fw.Add(dir)
	}
	if err != nil {
		return err
	}
	r.watched[dir] = true
	return nil
}

// unwatch stops watching dir; the kernel may already have dropped it.
func (r *watchRun) unwatch(dir string) {
	delete(r.watched, dir)
	// inotify has one watch per directory, named by the first path added:
	// when dir is also watched by another path (through a symlinked
	// folder), the watch is made again under that one, and the folders are
	// rescanned for what changed meanwhile.
	var again string
	if fi, err := os.Stat(dir); err == nil && r.aliases {
		for other := range r.watched {
			if ofi, err := os.Stat(other); err == nil && os.SameFile(fi, ofi) {
				again = other
				break
			}
		}
	}
	if err := r.fw.Remove(dir); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) {
		r.w.log.Debug("unwatch", "dir", dir, "err", err)
	}
	if again != "" {
		if err := r.fw.Add(again); err != nil {
			r.w.log.Warn("watch folder", "dir", again, "err", err)
		}
		r.rescan = true
	}
}

// publish copies the folder states for Status.
func (r *watchRun) publish() {
	st := make([]FolderStatus, len(r.folders))
	for i, f := range r.folders {
		st[i] = FolderStatus{Path: f.Path, Recursive: f.Recursive, State: f.state, Err: f.err, Since: f.since, Parent: f.waitOn}
	}
	r.w.mu.Lock()
	r.w.status = st
	r.w.mu.Unlock()
}

// armMaint runs maintain soon for a rescan, or later to retry broken folders.
func (r *watchRun) armMaint() {
	r.maint.Stop()
	if r.rescan {
		r.maint.Reset(rescanDelay)
		return
	}
	// Folders not being watched are looked at again now and then: a
	// mount, a network share or a failed watch sends no event when it
	// changes.
	for _, f := range r.folders {
		if f.state == FolderError || f.state == FolderWaiting {
			r.maint.Reset(r.w.retry)
			return
		}
	}
}

func (r *watchRun) maintain() {
	if r.rescan {
		r.rescan = false
		r.w.log.Info("rescanning watched folders after a watcher error")
		r.reconcile(true)
		for _, f := range r.folders {
			if f.state == FolderWatching {
				// Whatever changed since the folder was first watched may
				// have been missed; older files were never ours to report.
				r.scan(f, r.changedInRun(f), false)
			}
		}
		return
	}
	r.reconcile(false)
}

// watchErr handles an error from fsnotify: overflow or otherwise, events
// may have been lost, so the folders are rescanned.
func (r *watchRun) watchErr(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		r.w.log.Warn("folder watcher overflowed; rescanning", "err", err)
	} else {
		r.w.log.Warn("folder watcher error; rescanning", "err", err)
	}
	r.staleAhead() // events may have been lost
	if !r.rescan {
		r.rescan = true
		r.armMaint()
	}
}

// folderFor returns the watched folder a file at path belongs to: the most
// specific folder that is its parent, or an ancestor when recursive.
func (r *watchRun) folderFor(path string) (*runFolder, bool) {
	dir := filepath.Dir(path)
	var best *runFolder
	for _, f := range r.folders {
		if f.state != FolderWatching {
			continue
		}
		if dir == f.Path || (f.Recursive && within(dir, f.Path)) {
			if best == nil || len(f.Path) > len(best.Path) {
				best = f
			}
		}
	}
	return best, best != nil
}

// within reports whether path is strictly inside dir.
func within(path, dir string) bool {
	if dir == string(filepath.Separator) || strings.HasSuffix(dir, string(filepath.Separator)) {
		return strings.HasPrefix(path, dir) && path != dir
	}
	return strings.HasPrefix(path, dir+string(filepath.Separator))
}

// event handles one fsnotify event.
func (r *watchRun) event(ev fsnotify.Event) {
	path := ev.Name
	if p := r.ahead[path]; p != nil {
		p.stale.Store(true) // changed since it was read
		delete(r.ahead, path)
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		r.gone(path)
		return
	}
	if ev.Has(fsnotify.Create) {
		r.created(path)
		return
	}
	if Ignored(path) {
		return
	}
	if ev.Has(fsnotify.Write) {
		if f, ok := r.folderFor(path); ok && Included(path, r.w.include) {
			r.touch(path, f.Path, r.w.debounce)
		}
		return
	}
	// Chmod (and anything else) only prolongs the quiet time of a path
	// already on its way, or retries one that could not be read.
	if p, ok := r.pending[path]; ok {
		r.touch(path, p.folder, r.w.debounce)
	} else if r.unreadable[path] {
		delete(r.unreadable, path)
		if f, ok := r.folderFor(path); ok {
			r.touch(path, f.Path, r.w.debounce)
		}
	}
}

// created handles a Create: a new file or one renamed into a folder, or a
// new folder (watched and scanned when inside a recursive folder; a step
// towards a folder that is waiting to exist).
func (r *watchRun) created(path string) {
	for _, f := range r.folders {
		if f.state == FolderWaiting && (path == f.Path || within(f.Path, path)) {
			r.reconcile(false)
			break
		}
	}
	if Ignored(path) {
		return
	}
	f, ok := r.folderFor(path)
	if !ok {
		return
	}
	fi, err := os.Lstat(path)
	if err != nil {
		r.w.log.Debug("created and gone", "path", path, "err", err)
		return
	}
	if fi.IsDir() {
		if !f.Recursive {
			return
		}
		// Add the new folder (and any folders already inside it) before
		// reading it, then report what was written before the watch began.
		werr := walkFolder(path, true, func(dir string) error {
			return r.add(dir, false)
		}, func(p string, _ fs.FileInfo) {
			r.touch(p, f.Path, r.w.debounce)
		}, r.w.include)
		if werr != nil && !errors.Is(werr, fs.ErrNotExist) {
			r.w.log.Warn("watch new subfolder", "dir", path, "err", werr)
		}
		return
	}
	if fi.Mode().IsRegular() && Included(path, r.w.include) {
		if writersDetected && fi.Size() > 0 && r.w.debounce > movedInQuiet {
			r.touch(path, f.Path, movedInQuiet)
			r.pending[path].movedIn = true
			return
		}
		r.touch(path, f.Path, r.w.debounce)
	}
}

// gone handles a Remove or Rename (the old name): the path is forgotten; if
// it was a watched folder its watches go, and if a configured folder (or
// the ancestor a waiting one hangs on) went, the folders are reconciled.
func (r *watchRun) gone(path string) {
	if p, ok := r.pending[path]; ok {
		r.w.log.Debug("removed or renamed before it settled", "path", path)
		r.drop(p)
	}
	delete(r.reported, path)
	delete(r.unreadable, path)
	if !r.watched[path] {
		return
	}
	for dir := range r.watched {
		if dir == path || within(dir, path) {
			r.unwatch(dir)
		}
	}
	for _, f := range r.folders {
		if f.Path == path || f.waitOn == path || within(f.Path, path) {
			r.reconcile(true)
			return
		}
	}
}

// scan walks a folder and queues the files take picks for the gate (nil:
// none). With record, the others are what the folder holds (f.held; saved
// with setHeld when the walk saw everything).
func (r *watchRun) scan(f *runFolder, take func(rel string, fi fs.FileInfo) bool, record bool) {
	n := 0
	l := newLister(f.Recursive, r.w.include)
	err := walkFolder(f.Path, f.Recursive, nil, func(p string, fi fs.FileInfo) {
		rel, _ := filepath.Rel(f.Path, p)
		if take != nil && take(rel, fi) {
			n++
			r.touch(p, f.Path, 0)
		} else if record {
			l.add(rel, fi)
		}
	}, r.w.include)
	if err != nil {
		r.w.log.Warn("scan watched folder", "folder", f.Path, "err", err)
	}
	if record {
		h := l.done()
		// A walk with errors missed files: it is not kept as the whole
		// list, and the rescan goes by mtime alone.
		h.partial = err != nil
		if err == nil && r.w.setHeld != nil {
			r.w.setHeld(f.Path, h)
		}
		cur := *h
		cur.merge(f.held)
		f.held = &cur
	}
	r.w.log.Debug("scanned watched folder", "folder", f.Path, "files", n)
}

// changedInRun is the rescan after lost events: files changed since f was
// first watched, by mtime, or by ctime (renamed in) when f did not hold
// them then (a chmod or a hard link moves an old file's ctime too).
func (r *watchRun) changedInRun(f *runFolder) func(string, fs.FileInfo) bool {
	since := f.started.Add(-2 * time.Second)
	if f.held == nil {
		return changedSince(since, true)
	}
	return arrivedSince(since, f.held)
}

// changedSince takes the files changed after since: modified, or with
// ctime also their inode changed (renamed in, for one).
func changedSince(since time.Time, ctime bool) func(string, fs.FileInfo) bool {
	return func(_ string, fi fs.FileInfo) bool {
		t := fi.ModTime()
		if ctime {
			if c, ok := changeTime(fi); ok && c.After(t) {
				t = c
			}
		}
		return t.After(since)
	}
}

func either(a, b func(string, fs.FileInfo) bool) func(string, fs.FileInfo) bool {
	if a == nil {
		return b
	}
	return func(rel string, fi fs.FileInfo) bool { return a(rel, fi) || b(rel, fi) }
}

// touch (re)starts the gate for path: the first check comes after wait.
func (r *watchRun) touch(path, folder string, wait time.Duration) {
	p, ok := r.pending[path]
	if !ok {
		p = &watchPending{path: path, folder: folder, idx: -1}
		r.pending[path] = p
	}
	p.seen = false
	p.movedIn = false
	p.waits, p.races = 0, 0
	delete(r.unreadable, path)
	r.schedule(p, time.Now().Add(wait))
}

func (r *watchRun) schedule(p *watchPending, due time.Time) {
	p.due = due
	if p.idx < 0 {
		heap.Push(&r.queue, p)
	} else {
		heap.Fix(&r.queue, p.idx)
	}
	r.arm()
}

func (r *watchRun) drop(p *watchPending) {
	if p.idx >= 0 {
		heap.Remove(&r.queue, p.idx)
	}
	delete(r.pending, p.path)
	r.arm()
}

// arm points the timer at the earliest due check.
func (r *watchRun) arm() {
	if len(r.queue) == 0 {
		if !r.armed.IsZero() {
			r.timer.Stop()
			r.armed = time.Time{}
		}
		return
	}
	next := r.queue[0].due
	if next.Equal(r.armed) {
		return
	}
	r.armed = next
	r.timer.Reset(max(time.Until(next), 0))
}

// fire runs the checks that are due.
func (r *watchRun) fire() {
	now := time.Now()
	for len(r.queue) > 0 && !r.queue[0].due.After(now) {
		r.check(r.queue[0], now)
	}
	r.arm()
}

// check is the stability gate: size and mtime the same as one Settle ago,
// not empty, and the file opens for reading (on Windows: nobody holds it
// open for writing). A file still changing is checked again; it is never
// dropped for taking long.
func (r *watchRun) check(p *watchPending, now time.Time) {
	fi, err := os.Stat(p.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			r.w.log.Debug("file vanished before it settled", "path", p.path)
			r.drop(p)
			return
		}
		r.retry(p, now, err)
		return
	}
	if !fi.Mode().IsRegular() {
		r.drop(p)
		return
	}
	size, mod := fi.Size(), fi.ModTime()
	if p.movedIn {
		// No Write came: a file that is not empty, that nobody has open
		// for writing (known, not assumed) and that did not change
		// meanwhile is complete. Otherwise the gate takes over.
		p.movedIn = false
		if size > 0 {
			c, err := openForCheck(p.path, r.w.prefetch)
			if err == nil && c.noWriter && c.size == size && c.mod.Equal(mod) {
				r.drop(p)
				r.report(p, size, mod, now, c.pre)
				return
			}
			c.pre.release()
		}
		r.schedule(p, now.Add(r.w.debounce-movedInQuiet))
		return
	}
	if !p.seen || size != p.size || !mod.Equal(p.mod) {
		p.seen, p.size, p.mod, p.waits = true, size, mod, 0
		r.schedule(p, now.Add(r.w.settle))
		return
	}
	if size == 0 {
		// Nothing to upload yet; the write that fills it sends an event.
		r.w.log.Debug("empty file; waiting for it to be written", "path", p.path)
		r.drop(p)
		return
	}
	c, err := openForCheck(p.path, r.w.prefetch)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotRegular) {
			r.drop(p)
			return
		}
		r.retry(p, now, err)
		return
	}
	if (c.size != size || !c.mod.Equal(mod)) && p.races < maxRaces {
		// Written between the stat and the check: settle again (a few
		// times at most, should the two ever disagree for good).
		p.races++
		p.seen, p.size, p.mod, p.waits = true, c.size, c.mod, 0
		r.schedule(p, now.Add(r.w.settle))
		c.pre.release()
		return
	}
	r.drop(p)
	if !c.noWriter || c.size != size || !c.mod.Equal(mod) {
		c.pre.release() // not the version reported
		c.pre = nil
	}
	r.report(p, size, mod, now, c.pre)
}

// checked is what openForCheck saw of a file it opened.
type checked struct {
	size     int64
	mod      time.Time
	noWriter bool        // nobody has it open for writing: known, not assumed
	pre      *prefetched // its bytes, read with the lease held (or nil)
}

// report hands a settled file on, once per version, with its bytes if
// the check read them.
func (r *watchRun) report(p *watchPending, size int64, mod, now time.Time, pre *prefetched) {
	if v, ok := r.reported[p.path]; ok && v.size == size && v.mod.Equal(mod) {
		pre.release()
		return
	}
	r.remember(p.path, reportedVersion{size: size, mod: mod, at: now})
	if pre != nil {
		if old := r.ahead[p.path]; old != nil {
			old.stale.Store(true)
		}
		r.ahead[p.path] = pre
		if len(r.ahead) >= r.aheadSweepAt {
			for k, a := range r.ahead {
				if a.done.Load() { // used or given back
					delete(r.ahead, k)
				}
			}
			r.aheadSweepAt = max(2*len(r.ahead), 1024)
		}
	}
	r.out.push(Detected{Path: p.path, Folder: p.folder, Size: size, ModTime: mod, pre: pre})
}

// retry checks p again later, backing off while it stays in use. A file
// we may not read is given up after a few tries (its next change or chmod
// brings it back); one still being written is never given up.
func (r *watchRun) retry(p *watchPending, now time.Time, err error) {
	p.waits++
	if errors.Is(err, fs.ErrPermission) && p.waits >= 5 {
		r.w.log.Warn("cannot read a file in a watched folder; skipping it until it changes", "path", p.path, "err", err)
		r.unreadable[p.path] = true
		r.drop(p)
		return
	}
	wait := min(r.w.settle<<min(p.waits, 10), maxRecheck)
	lvl := slog.LevelDebug
	if p.waits == 10 {
		lvl = slog.LevelInfo // say it once, when it has lasted a while
	}
	r.w.log.Log(context.Background(), lvl, "file in use or unreadable; will check again", "path", p.path, "err", err, "in", wait)
	p.seen = false
	r.schedule(p, now.Add(wait))
}

// remember records a reported version, forgetting old ones now and then so
// the map stays small.
func (r *watchRun) remember(path string, v reportedVersion) {
	r.reported[path] = v
	if len(r.reported) < r.sweepAt {
		return
	}
	for k, old := range r.reported {
		if v.at.Sub(old.at) > reportedKeep {
			delete(r.reported, k)
		}
	}
	r.sweepAt = max(2*len(r.reported), 1024)
}

// explainWatchErr turns the errors people hit into advice.
func explainWatchErr(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w (the system limit on watched folders is reached: raise fs.inotify.max_user_watches, or watch fewer subfolders)", err)
	case errors.Is(err, syscall.EMFILE):
		return fmt.Errorf("%w (too many open files: raise fs.inotify.max_user_instances or the open-file limit)", err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w (no permission to read this folder)", err)
	}
	return err
}

// watchOutbox hands settled files to the ready callback on its own
// goroutine, in order, without ever blocking the run loop.
type watchOutbox struct {
	mu     sync.Mutex
	q      []Detected
	closed bool
	wake   chan struct{}
}

func newWatchOutbox() *watchOutbox { return &watchOutbox{wake: make(chan struct{}, 1)} }

func (o *watchOutbox) push(d Detected) {
	o.mu.Lock()
	o.q = append(o.q, d)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// close lets run return once everything queued so far is handed over.
func (o *watchOutbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *watchOutbox) run(ready func(Detected)) {
	for range o.wake {
		for {
			o.mu.Lock()
			q, closed := o.q, o.closed
			o.q = nil
			o.mu.Unlock()
			for _, d := range q {
				ready(d)
			}
			if len(q) == 0 {
				if closed {
					return
				}
				break
			}
		}
	}
}

// pendingHeap orders pending paths by due time.
type pendingHeap []*watchPending

func (h pendingHeap) Len() int           { return len(h) }
func (h pendingHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h pendingHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *pendingHeap) Push(x any) {
	p := x.(*watchPending)
	p.idx = len(*h)
	*h = append(*h, p)
}
func (h *pendingHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	p.idx = -1
	return p
}
