// Package uploader is zipline-tray's upload engine: a durable queue in the
// state folder, a folder watcher feeding it, bounded concurrent uploads with
// retries, and the history of finished uploads. It knows nothing of the GUI
// or of how credentials are stored: callers pass a Credentials and a
// Clipboard, and follow the engine through Subscribe.
//
// Guarantees. A file is on disk in the queue (StateDir/queue.db, bbolt,
// synced) before its upload starts, and its link is written to the link
// log (StateDir/links.log) before anyone hears of it; the log is folded
// into the queue, synced, when uploads pause (see LinkLogFile). Nothing is
// dropped: network errors and 5xx retry with back-off (capped at RetryMax,
// never giving up), 429 holds the whole queue until Retry-After, 401
// pauses the whole queue until CredentialsChanged. A file is uploaded
// once; after the process is killed a file can be uploaded a second time
// only if its upload was in flight: running, or finished with its link
// not yet written. The engine never has more than 2×Concurrency of those
// together (at most Concurrency running), so at most 2×Concurrency files
// are uploaded twice per crash. A power cut can also cost the records of
// links not folded yet: those files are uploaded again, never lost.
//
// One process owns the queue at a time (bbolt's file lock); others talk to
// it over StateDir/control.sock with Call, Notify and Do.
package uploader

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// Credentials gives the engine a client for the signed-in server. auth
// satisfies it through a small adapter. When nobody is signed in it should
// return an error wrapping zipline.ErrUnauthorized: the queue then pauses
// until CredentialsChanged.
type Credentials interface {
	Client(ctx context.Context) (*zipline.Client, error)
}

// Reloader is implemented by Credentials that cache a client: Reload drops
// it, so the next Client call reads the new sign-in.
type Reloader interface {
	Reload()
}

// Config configures an Engine. StateDir and Credentials are required.
type Config struct {
	StateDir    string
	Credentials Credentials
	// Options are sent with every upload (format, expiry, folder...).
	Options zipline.UploadOptions
	// Concurrency bounds simultaneous uploads (0: 2).
	Concurrency int
	// ReuseLinks: the same content with the same options on the same server
	// gets the earlier link instead of a second upload, while that file is
	// still on the server.
	ReuseLinks bool
	// DeleteAfterUpload removes the local file once its link is recorded.
	// Off by default: local files are otherwise never touched.
	DeleteAfterUpload bool
	// CopyLinks puts each finished upload's link on Clipboard; after a burst
	// it holds the link of the upload that finished last.
	CopyLinks  bool
	LinkFormat string // url (default), raw, markdown, html
	Clipboard  Clipboard
	// RetryBase and RetryMax shape the back-off on network errors and 5xx
	// (defaults 2 s and 5 min). Retries never stop by themselves.
	RetryBase, RetryMax time.Duration
	// RateLimitWait is used when a 429 carries no Retry-After (default 60 s).
	RateLimitWait time.Duration
	// LockWait bounds the wait for another process's lock on the queue
	// (default 100 ms); after it Open fails with ErrOwned.
	LockWait time.Duration
	// ShutdownGrace is how long Close lets running uploads finish before
	// cancelling them (default 3 s). Cancelled ones stay queued.
	ShutdownGrace time.Duration
	// OneFilePerRequest turns grouping off: otherwise, when more small
	// files are ready than workers are free, a worker sends up to
	// maxGroup of them in one request.
	OneFilePerRequest bool
	// NoIPC skips the control socket (tests that run several engines).
	NoIPC bool
	// OnShow handles a "show" request from another process (the GUI raises
	// its window). Nil answers that this instance has no window.
	OnShow func() error
	// OnOpen handles an "open" request: uploader configurations (.sxcu…)
	// given to a second start of the GUI, to import. Nil answers that this
	// instance cannot.
	OnOpen func(paths []string) error
	Logger *slog.Logger
}

// Engine runs the queue. Create it with Open; it works until Close.
type Engine struct {
	cfg  Config
	log  *slog.Logger
	st   *store
	ev   broker
	clip *clipSetter
	live liveSettings
	ipc  *ipcServer
	ctx  context.Context // ends at Close: nothing new starts
	stop context.CancelFunc
	// work is the parent of running uploads; Close ends it after the grace.
	workCtx  context.Context
	stopWork context.CancelFunc
	wg       sync.WaitGroup
	watch    watchState

	mu       sync.Mutex
	items    map[ItemID]*Item    // every item not in a terminal state
	order    []ItemID            // their IDs, ascending; may hold finished ones
	paths    map[string][]ItemID // the items of each path in items (usually one)
	running  map[ItemID]context.CancelCauseFunc
	wake     chan struct{}
	paused   bool // 401: waiting for credentials
	credGen  uint64
	gate     time.Time // 429: no upload starts before this
	gateSaid bool
	closing  bool
	// finishing counts finished uploads whose record is not on disk yet
	// (the committer writes them in groups), finishingReqs their requests.
	// Busy workers plus finishingReqs stay under 2×Concurrency: the crash
	// bound.
	finishing, finishingReqs int
	// extra counts the running items sent in another item's request
	// (group members): len(running)-extra workers are busy.
	extra int
	// groupMax is the most bytes sent in one group; it shrinks when a
	// group is refused as too large (a proxy's body limit).
	groupMax int64
	commit   committer
	// pre holds the bytes the watcher read ahead for waiting items, within
	// preBudget (see prefetched).
	pre       map[ItemID]*prefetched
	preBudget prefetchBudget
	offline   bool // serving one control request without running (Do)
	// memberHook, for tests, runs before a group member is prepared.
	memberHook func(Item)
}

var (
	errHeld      = errors.New("the queue is waiting (rate limit or sign-in)")
	errCancelled = errors.New("cancelled by the user")
	errShutdown  = errors.New("shutting down")
)

// Open opens the queue in cfg.StateDir, takes ownership of it, resumes what
// a previous run left, and starts uploading. If another process owns the
// queue it fails with ErrOwned at once: use Dial to talk to that process.
func Open(cfg Config) (*Engine, error) {
	if cfg.StateDir == "" || cfg.Credentials == nil {
		return nil, errors.New("uploader: StateDir and Credentials are required")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 2 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 5 * time.Minute
	}
	if cfg.RateLimitWait <= 0 {
		cfg.RateLimitWait = time.Minute
	}
	if cfg.LockWait <= 0 {
		cfg.LockWait = 100 * time.Millisecond
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 3 * time.Second
	}
	if _, err := FormatLink(cfg.LinkFormat, "", "", ""); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := openStore(cfg.StateDir, cfg.LockWait)
	if err != nil {
		return nil, err
	}
	if err := st.log.offErr; err != nil {
		log.Warn("no link log: each group of finished uploads costs a disk sync", "err", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	work, stopWork := context.WithCancel(context.Background())
	e := &Engine{
		cfg: cfg, log: log, st: st, ctx: ctx, stop: stop, workCtx: work, stopWork: stopWork,
		items:    make(map[ItemID]*Item),
		running:  make(map[ItemID]context.CancelCauseFunc),
		wake:     make(chan struct{}, 1),
		groupMax: groupBytes,
	}
	pending, err := st.loadPending(time.Now(), 7*24*time.Hour)
	if err != nil {
		st.close()
		stop()
		stopWork()
		return nil, fmt.Errorf("read upload queue: %w", err)
	}
	for _, it := range pending {
		if !it.State.Terminal() {
			e.putLocked(it)
		}
	}
	e.live.set(Settings{Options: cfg.Options, LinkFormat: cfg.LinkFormat, CopyLinks: cfg.CopyLinks})
	if cfg.Clipboard != nil {
		e.clip = newClipSetter(cfg.Clipboard, log)
	}
	if !cfg.NoIPC {
		e.ipc, err = listenIPC(cfg.StateDir, e)
		if err != nil {
			st.close()
			stop()
			stopWork()
			return nil, err
		}
	}
	e.commit.start(e)
	e.wg.Add(1)
	go e.dispatch()
	return e, nil
}

// Close stops taking work, lets running uploads finish for ShutdownGrace,
// cancels the rest (they stay queued for the next start), and closes the
// queue. Everything detected so far is on disk.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return nil
	}
	e.closing = true
	e.mu.Unlock()
	if e.ipc != nil {
		e.ipc.close()
	}
	e.stop() // the dispatcher starts nothing more
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(e.cfg.ShutdownGrace):
		e.mu.Lock()
		for _, cancel := range e.running {
			cancel(errShutdown)
		}
		e.mu.Unlock()
		<-done
	}
	e.stopWork()
	e.commit.stop()
	if e.clip != nil {
		e.clip.close()
	}
	e.watch.saveMarks(e)
	err := e.st.close()
	e.ev.closeAll()
	return err
}

// Subscribe returns the engine's events and a function that ends the
// subscription. A subscriber that falls behind loses progress events only.
func (e *Engine) Subscribe() (<-chan Event, func()) { return e.ev.subscribe() }

// SubscribeAll returns every event from now until the engine is closed: the
// channel is closed after the last one (after Close returns). Progress
// events may be dropped for a reader that falls behind, no others; read it
// to the end.
func (e *Engine) SubscribeAll() <-chan Event { return e.ev.subscribeAll() }

// StateDir is the folder holding the queue.
func (e *Engine) StateDir() string { return e.cfg.StateDir }

// AddOptions qualify Add.
type AddOptions struct {
	Source Source
	Folder string
	// Force queues the file even if the same file (path, size, mtime) was
	// queued before. The watcher leaves it off; a user's explicit upload sets it.
	Force bool
	// Size and ModTime as the watcher saw them (zero: read them now).
	Size    int64
	ModTime time.Time
}

// Add records a file in the queue, before anything else happens to it, and
// returns its item. added is false when the same file was already queued or
// uploaded (then the earlier item is returned).
func (e *Engine) Add(path string, o AddOptions) (it Item, added bool, err error) {
	r := e.addMany([]addReq{{path: path, o: o}})[0]
	return r.it, r.added, r.err
}

type addReq struct {
	path string
	o    AddOptions
	pre  *prefetched // the file's bytes, read by the watcher; addMany owns them
}

type addRes struct {
	it    Item
	added bool
	err   error
	retry bool // the queue could not be written (full disk...): try again later
}

// addMany records several files in one transaction (a burst costs one disk
// sync, not one per file).
func (e *Engine) addMany(reqs []addReq) []addRes {
	res := make([]addRes, len(reqs))
	now := time.Now()
	var fresh []*Item
	var freshIdx []int
	var force []bool
	byPath := map[string]int{} // index in fresh, for a path seen twice in one batch
	for i, r := range reqs {
		abs, err := filepath.Abs(r.path)
		if err != nil {
			res[i].err = fmt.Errorf("queue %s: %w", r.path, err)
			continue
		}
		o := r.o
		if o.Size == 0 && o.ModTime.IsZero() {
			fi, err := os.Stat(abs)
			if err != nil {
				res[i].err = fmt.Errorf("queue %s: %w", r.path, err)
				continue
			}
			if !fi.Mode().IsRegular() {
				res[i].err = fmt.Errorf("queue %s: not a regular file", r.path)
				continue
			}
			o.Size, o.ModTime = fi.Size(), fi.ModTime()
		}
		if o.Source == "" {
			o.Source = SourceUser
		}
		if !o.Force {
			if j, ok := byPath[abs]; ok {
				fresh[j].Size, fresh[j].ModTime = o.Size, o.ModTime
				// The later version's bytes go with it; the earlier ones are
				// given back.
				k := freshIdx[j]
				reqs[k].pre, reqs[i].pre = reqs[i].pre, reqs[k].pre
				res[i].err = errMerged
				continue
			}
			if it, ok, err := e.coalesce(abs, o, now); ok || err != nil {
				res[i] = addRes{it: it, err: err}
				continue
			}
			byPath[abs] = len(fresh)
		}
		fresh = append(fresh, &Item{
			Path: abs, Folder: o.Folder, Source: o.Source, Size: o.Size, ModTime: o.ModTime,
			State: StateQueued, Added: now, Updated: now,
		})
		freshIdx = append(freshIdx, i)
		force = append(force, o.Force)
	}
	// Read-ahead bytes that did not go into the queue are given back, but
	// not those of files to be tried again.
	defer func() {
		for i := range reqs {
			if !res[i].retry {
				reqs[i].pre.release()
			}
		}
	}()
	if len(fresh) == 0 {
		return res
	}
	e.mu.Lock()
	closing := e.closing
	e.mu.Unlock()
	if closing {
		for _, i := range freshIdx {
			res[i].err = fmt.Errorf("queue %s: the upload engine is shutting down", reqs[i].path)
		}
		return res
	}
	// The first files are recorded in a small transaction and start
	// uploading while the rest of a burst is recorded.
	for lo := 0; lo < len(fresh); {
		hi := len(fresh)
		for _, b := range addChunks {
			if lo < b && b < hi {
				hi = b
				break
			}
		}
		e.enqueue(fresh[lo:hi], freshIdx[lo:hi], force[lo:hi], reqs, res)
		lo = hi
	}
	for i := range res {
		if res[i].err == errMerged { // same path twice in one batch: the later version won
			res[i].err = nil
		}
	}
	return res
}

var errMerged = errors.New("merged")

// addChunks are where addMany splits a burst into transactions.
var addChunks = []int{8, 64}

// enqueue writes fresh items (reqs[idx[k]] made fresh[k]) to the queue,
// fills their results and starts them.
func (e *Engine) enqueue(fresh []*Item, idx []int, force []bool, reqs []addReq, res []addRes) {
	prevs, err := e.st.addItems(fresh, force)
	if err != nil {
		for _, i := range idx {
			res[i].err = fmt.Errorf("queue %s: %w", reqs[i].path, err)
			res[i].retry = true
		}
		return
	}
	e.mu.Lock()
	for k, n := range fresh {
		i := idx[k]
		if prevs[k] != nil {
			res[i] = addRes{it: *prevs[k]}
			continue
		}
		e.putLocked(n)
		if p := reqs[i].pre; p != nil {
			if e.pre == nil {
				e.pre = make(map[ItemID]*prefetched)
			}
			e.pre[n.ID], reqs[i].pre = p, nil
		}
		res[i] = addRes{it: *n, added: true}
		// Under e.mu: a worker that claims the item at once publishes
		// "started" only after this.
		e.ev.publish(Event{Type: EventQueued, Item: n.ID, Path: n.Path, Folder: n.Folder, Total: n.Size})
	}
	e.mu.Unlock()
	e.kick()
}

// coalesce finds a waiting item for the same file: a file that changed
// while it waited gets one upload, of its new version, not two.
func (e *Engine) coalesce(abs string, o AddOptions, now time.Time) (Item, bool, error) {
	e.mu.Lock()
	// The path's items (a lookup, not a scan: a burst adds hundreds of
	// files one at a time); any one still waiting takes the new version.
	for _, id := range e.paths[abs] {
		it := e.items[id]
		if _, busy := e.running[id]; it == nil || busy || !(it.State == StateQueued || it.State == StateFailed && it.Retrying) {
			continue
		}
		if it.Size == o.Size && it.ModTime.Equal(o.ModTime) {
			cp := *it
			e.mu.Unlock()
			return cp, true, nil
		}
		it.Size, it.ModTime, it.Updated = o.Size, o.ModTime, now
		e.dropPreLocked(id) // the bytes of the older version
		cp := *it
		e.mu.Unlock()
		if err := e.st.updateItem(&cp); err != nil {
			return Item{}, true, fmt.Errorf("queue %s: %w", abs, err)
		}
		return cp, true, nil
	}
	e.mu.Unlock()
	return Item{}, false, nil
}

// Queue returns the items that are not finished (queued, uploading,
// processing, failed), oldest first.
func (e *Engine) Queue() []Item {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Item, 0, len(e.items))
	for _, it := range e.items {
		out = append(out, *it)
	}
	sortItems(out)
	return out
}

// Item returns one item, finished or not.
func (e *Engine) Item(id ItemID) (Item, bool) {
	e.mu.Lock()
	if it, ok := e.items[id]; ok {
		cp := *it
		e.mu.Unlock()
		return cp, true
	}
	e.mu.Unlock()
	all, err := e.st.items()
	if err != nil {
		return Item{}, false
	}
	for _, it := range all {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// Paused reports whether the queue waits for credentials (after a 401).
func (e *Engine) Paused() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.paused
}

// CredentialsChanged tells the engine the user signed in again: a queue
// paused by a 401 resumes.
func (e *Engine) CredentialsChanged() {
	if r, ok := e.cfg.Credentials.(Reloader); ok {
		r.Reload()
	}
	e.mu.Lock()
	e.credGen++
	was := e.paused
	e.paused = false
	if was {
		// Under e.mu: no upload is announced as started before this.
		e.ev.publish(Event{Type: EventResumed, Reason: "signed in again"})
	}
	e.mu.Unlock()
	if was {
		e.log.Info("credentials changed; resuming uploads")
	}
	e.kick()
}

// Retry puts a failed, cancelled or skipped item back in the queue now.
func (e *Engine) Retry(id ItemID) error {
	e.mu.Lock()
	it, ok := e.items[id]
	if ok {
		if _, busy := e.running[id]; busy || it.State == StateUploading || it.State == StateProcessing {
			e.mu.Unlock()
			return fmt.Errorf("item %d is uploading", id)
		}
		it.State, it.Reason, it.Retrying, it.NextAttempt, it.Attempts = StateQueued, "", false, time.Time{}, 0
		it.Updated = time.Now()
		cp := *it
		// Under e.mu, as in enqueue: a worker may claim it from now on, and
		// must not announce "started" first.
		e.ev.publish(Event{Type: EventQueued, Item: id, Path: cp.Path, Total: cp.Size})
		e.mu.Unlock()
		if err := e.st.putItem(&cp); err != nil {
			return err
		}
		e.kick()
		return nil
	}
	e.mu.Unlock()
	old, found := e.Item(id)
	if !found {
		return fmt.Errorf("no queue item %d", id)
	}
	if old.State == StateDone {
		return fmt.Errorf("item %d is already uploaded: %s", id, old.URL)
	}
	old.State, old.Reason, old.Retrying, old.NextAttempt, old.Attempts = StateQueued, "", false, time.Time{}, 0
	old.Updated = time.Now()
	if err := e.st.putItem(&old); err != nil {
		return err
	}
	e.mu.Lock()
	e.putLocked(&old)
	e.ev.publish(Event{Type: EventQueued, Item: id, Path: old.Path, Total: old.Size})
	e.mu.Unlock()
	e.kick()
	return nil
}

// RetryAll puts every failed item back in the queue now, resetting back-off.
// It returns how many it requeued.
func (e *Engine) RetryAll() int {
	e.mu.Lock()
	var ids []ItemID
	for id, it := range e.items {
		if it.State == StateFailed {
			ids = append(ids, id)
		}
	}
	e.mu.Unlock()
	n := 0
	for _, id := range ids {
		if e.Retry(id) == nil {
			n++
		}
	}
	return n
}

// Cancel stops an item: a queued one never starts, a running upload is
// aborted. The local file is not touched.
func (e *Engine) Cancel(id ItemID) error {
	e.mu.Lock()
	it, ok := e.items[id]
	if !ok {
		e.mu.Unlock()
		return fmt.Errorf("no pending queue item %d", id)
	}
	if cancel, busy := e.running[id]; busy {
		cancel(errCancelled) // the worker records it
		e.mu.Unlock()
		return nil
	}
	if it.State == StateUploading || it.State == StateProcessing {
		e.mu.Unlock()
		return fmt.Errorf("item %d is already uploaded; its link is being recorded", id)
	}
	it.State, it.Retrying, it.Reason, it.Updated = StateCancelled, false, "cancelled by the user", time.Now()
	cp := *it
	e.dropLocked(id)
	e.mu.Unlock()
	if err := e.st.putItem(&cp); err != nil {
		return err
	}
	e.ev.publish(Event{Type: EventCancelled, Item: id, Path: cp.Path})
	return nil
}

func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// dispatch starts ready items while there is room, honouring the 401 pause
// and the 429 gate.
func (e *Engine) dispatch() {
	defer e.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var wait time.Duration = -1
		e.mu.Lock()
		now := time.Now()
		switch {
		case e.closing || e.ctx.Err() != nil:
			e.mu.Unlock()
			return
		case e.paused:
		case now.Before(e.gate):
			wait = e.gate.Sub(now)
		default:
			if e.gateSaid {
				e.gateSaid = false
				e.ev.publish(Event{Type: EventResumed, Reason: "rate limit over"})
			}
			for e.roomLocked() {
				next := e.pickLocked(now)
				if next == nil {
					break
				}
				e.startLocked(next)
			}
			if e.roomLocked() {
				if t, ok := e.nextAttemptLocked(); ok {
					wait = max(t.Sub(now), time.Millisecond)
				}
			}
		}
		e.mu.Unlock()
		// Since Go 1.23 Reset and Stop leave no stale tick in timer.C.
		if wait >= 0 {
			timer.Reset(wait)
		} else {
			timer.Stop()
		}
		select {
		case <-e.ctx.Done():
			return
		case <-e.wake:
		case <-timer.C:
		}
	}
}

// roomLocked reports whether another upload may start: a free slot, and
// fewer than 2×Concurrency requests running or finished with their links
// not yet on disk. The second limit is the crash bound; within it the
// workers upload the next files while the committer writes the previous
// links.
func (e *Engine) roomLocked() bool {
	n := e.slotsLocked()
	return n < e.cfg.Concurrency && n+e.finishingReqs < 2*e.cfg.Concurrency
}

// slotsLocked is the number of busy workers: running items but the other
// members of their groups.
func (e *Engine) slotsLocked() int { return len(e.running) - e.extra }

// pickLocked returns the oldest ready item that is not running.
func (e *Engine) pickLocked(now time.Time) *Item {
	// Finished items leave e.items; drop them from the front of the order,
	// so a burst is picked in constant time, not by scanning it.
	i := 0
	for i < len(e.order) && e.items[e.order[i]] == nil {
		i++
	}
	e.order = e.order[i:]
	if len(e.order) > 2*len(e.items)+64 {
		// Finished items pile up behind one that waits (backing off, or
		// failed for good): rebuild the order from the queue.
		e.order = e.order[:0]
		for id := range e.items {
			e.order = append(e.order, id)
		}
		slices.Sort(e.order)
	}
	for _, id := range e.order {
		it := e.items[id]
		if it == nil {
			continue
		}
		if _, busy := e.running[id]; !busy && it.ready(now) {
			return it
		}
	}
	return nil
}

// dropPreLocked gives back an item's read-ahead bytes.
func (e *Engine) dropPreLocked(id ItemID) {
	if p := e.pre[id]; p != nil {
		p.release()
		delete(e.pre, id)
	}
}

// dropLocked takes a finished item out of the queue in memory.
func (e *Engine) dropLocked(id ItemID) {
	e.dropPreLocked(id)
	if it := e.items[id]; it != nil {
		ids := slices.DeleteFunc(e.paths[it.Path], func(x ItemID) bool { return x == id })
		if len(ids) == 0 {
			delete(e.paths, it.Path)
		} else {
			e.paths[it.Path] = ids
		}
	}
	delete(e.items, id)
}

// putLocked adds an item to the queue in memory.
func (e *Engine) putLocked(it *Item) {
	if old := e.items[it.ID]; old != nil && old.Path != it.Path {
		e.dropLocked(it.ID)
	}
	e.items[it.ID] = it
	if e.paths == nil {
		e.paths = make(map[string][]ItemID)
	}
	if !slices.Contains(e.paths[it.Path], it.ID) {
		e.paths[it.Path] = append(e.paths[it.Path], it.ID)
	}
	if n := len(e.order); n == 0 || e.order[n-1] < it.ID {
		e.order = append(e.order, it.ID) // the usual case: a new item
		return
	}
	if i, found := slices.BinarySearch(e.order, it.ID); !found {
		e.order = slices.Insert(e.order, i, it.ID)
	}
}

func (e *Engine) nextAttemptLocked() (time.Time, bool) {
	var t time.Time
	for id, it := range e.items {
		if _, busy := e.running[id]; busy {
			continue
		}
		if it.NextAttempt.IsZero() || !(it.State == StateQueued || it.State == StateFailed && it.Retrying) {
			continue
		}
		if t.IsZero() || it.NextAttempt.Before(t) {
			t = it.NextAttempt
		}
	}
	return t, !t.IsZero()
}

// startLocked starts a worker on it. When done, the worker takes the next
// ready item itself (nextJob): on a busy machine a round trip through the
// dispatcher goroutine leaves the slot idle while it waits to be scheduled.
func (e *Engine) startLocked(it *Item) {
	j := e.claimLocked(it)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for j.ctx != nil {
			next := e.work(j.ctx, j.it, j.gen, j.pre)
			j.cancel(nil)
			j = next
		}
		e.kick() // the dispatcher decides what comes next
	}()
}

// job is one upload attempt a worker runs.
type job struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	it     Item
	gen    uint64
	pre    *prefetched
}

func (e *Engine) claimLocked(it *Item) job {
	ctx, cancel := context.WithCancelCause(e.workCtx)
	e.running[it.ID] = cancel
	it.State, it.Updated = StateUploading, time.Now()
	it.Attempts++
	pre := e.pre[it.ID]
	delete(e.pre, it.ID)
	return job{ctx: ctx, cancel: cancel, it: *it, gen: e.credGen, pre: pre}
}

// nextJob claims the next ready item for a worker that just finished, under
// the same rules as the dispatcher; a zero job leaves the decision to it
// (nothing ready, paused, rate limited, closing, no room).
func (e *Engine) nextJob() job {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nextJobLocked()
}

func (e *Engine) nextJobLocked() job {
	now := time.Now()
	if e.closing || e.ctx.Err() != nil || e.paused || now.Before(e.gate) || e.gateSaid || !e.roomLocked() {
		return job{}
	}
	next := e.pickLocked(now)
	if next == nil {
		return job{}
	}
	return e.claimLocked(next)
}

// outcome is how a worker leaves an item.
type outcome struct {
	it      Item
	ev      Event
	record  string // upload record key to save, with rec
	rec     record
	history *HistoryEntry
	drop    bool        // leaves the in-memory queue (terminal)
	file    fs.FileInfo // the file as it was read, for DeleteAfterUpload
	last    bool        // the last of its request's outcomes (committer)
	stored  *storedFile // cancelled, but the server has it: delete it there
}

// work runs one upload attempt and returns the worker's next job (zero:
// none for this worker).
func (e *Engine) work(ctx context.Context, it Item, gen uint64, pre *prefetched) job {
	// "uploading" is not written to disk: after a crash it would go back to
	// queued anyway, and skipping it saves a disk sync per file.
	e.ev.publish(Event{Type: EventStarted, Item: it.ID, Path: it.Path, Total: it.Size})
	p, out, ok := e.prepare(ctx, it, gen, pre, nil)
	if ok {
		if g := e.claimGroup(p); len(g) > 0 {
			outs := e.sendGroup(ctx, gen, p, g)
			for _, m := range g {
				m.j.cancel(nil) // as the worker does with its own job's
			}
			return e.finish(outs, len(outs)-1)
		}
		out = e.send(ctx, gen, p)
	}
	return e.finish([]outcome{out}, 0)
}

// finish settles a worker's outcomes (its own file's, then its group's,
// extra of them) and returns its next job.
func (e *Engine) finish(outs []outcome, extra int) job {
	if extra > 0 {
		// Until each member is settled below it still counts as running: the
		// slots look busier for a moment, never freer.
		e.mu.Lock()
		e.extra -= extra
		e.mu.Unlock()
	}
	var up, stored []outcome
	for _, o := range outs {
		// Every finished upload (reused links too) goes through the
		// committer, so links are announced, and copied, in the order
		// uploads finished.
		switch {
		case o.ev.Type == EventUploaded:
			up = append(up, o)
		case o.stored != nil:
			stored = append(stored, o)
		default:
			e.settle(o)
		}
	}
	if len(stored) == 0 {
		if len(up) > 0 {
			return e.commit.handOff(e, up...)
		}
		return e.nextJob()
	}
	// Cancelled files the server has: the others are handed over first,
	// then these are deleted there, then the worker goes on.
	if len(up) > 0 {
		e.commit.add(e, false, up)
	}
	for _, o := range stored {
		e.settle(e.deleteStored(o))
	}
	return e.nextJob()
}

// settle records an outcome, then tells everyone. The order matters: a link
// is on disk before it reaches the clipboard.
func (e *Engine) settle(o outcome) {
	o.it.Updated = time.Now()
	if err := e.st.putItem(&o.it); err != nil {
		e.log.Error("record upload state", "path", o.it.Path, "state", o.it.State, "err", err)
	}
	e.mu.Lock()
	delete(e.running, o.it.ID)
	e.mu.Unlock()
	e.announce(o)
	e.kick()
}

// announce applies a recorded outcome in memory and tells everyone.
func (e *Engine) announce(o outcome) {
	e.mu.Lock()
	if o.drop {
		e.dropLocked(o.it.ID)
	} else if cur, ok := e.items[o.it.ID]; ok {
		*cur = o.it
	}
	e.mu.Unlock()
	if o.ev.Type == EventUploaded && e.clip != nil && e.live.get().CopyLinks {
		e.clip.set(o.ev.Link)
	}
	if o.ev.Type != "" {
		e.ev.publish(o.ev)
	}
}

// committer records finished uploads in the link log in groups (one write
// for every upload that finished while the previous group was written),
// then announces them, in the order they finished. A worker hands its
// result over and its slot takes the next file at once. The dispatcher
// keeps running plus unrecorded uploads under 2×Concurrency (roomLocked),
// so a crash can lose the record of at most that many uploads (they are
// uploaded again). The log is folded into the database after foldIdle
// without new links, or sooner when it fills.
type committer struct {
	mu      sync.Mutex
	queue   []outcome
	remove  []removal     // local files to delete once their links are folded
	commits int           // groups written, for the benchmarks
	folds   int           // folds of the log into the database
	checked int           // local files checked for DeleteAfterUpload, for tests
	busy    time.Duration // time spent writing them
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	// The remover deletes local files (DeleteAfterUpload) on its own
	// goroutine, in order, after the fold that made their links durable:
	// hashing a big file again must not hold up the next links.
	removing []removal
	rwake    chan struct{}
	rquit    chan struct{}
	rdone    chan struct{}
}

// foldIdle is how long the committer waits for more links before it folds
// the link log into the database: long enough to fold a burst once, short
// enough that a power cut soon after an upload rarely costs its record.
const foldIdle = 50 * time.Millisecond

func (c *committer) start(e *Engine) {
	c.wake, c.quit, c.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	c.rwake, c.rquit, c.rdone = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go c.run(e)
	go c.removeLoop(e)
}

// handOff queues a finished upload for the committer and returns the
// worker's next job. Both under one lock: the dispatcher never sees the
// worker's slot free in between and starts a second worker for it.
func (c *committer) handOff(e *Engine, outs ...outcome) job {
	return c.add(e, true, outs)
}

// add queues a request's finished uploads; with next, the worker that sent
// it also claims its next job (a group member settled early does not).
func (c *committer) add(e *Engine, next bool, outs []outcome) job {
	now := time.Now()
	e.mu.Lock()
	for i := range outs {
		outs[i].it.Updated = now
		delete(e.running, outs[i].it.ID)
	}
	outs[len(outs)-1].last = true
	e.finishing += len(outs)
	e.finishingReqs++
	var j job
	if next {
		j = e.nextJobLocked()
	}
	e.mu.Unlock()
	c.mu.Lock()
	c.queue = append(c.queue, outs...)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	// No kick: the worker takes the next item itself, or kicks when it
	// cannot.
	return j
}

func (c *committer) run(e *Engine) {
	defer close(c.done)
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		if len(batch) > 0 {
			c.commits++
		}
		c.mu.Unlock()
		if len(batch) > 0 {
			t := time.Now()
			if err := e.st.finishMany(batch); err != nil {
				e.log.Error("record finished uploads", "files", len(batch), "err", err)
			} else if e.cfg.DeleteAfterUpload {
				// Deleted once the records are synced (fold), never when
				// they could not be written: a power cut or a full disk must
				// not leave a file gone and its link nowhere.
				for _, o := range batch {
					if o.ev.Type == EventUploaded {
						c.removeAfterFold(removal{o.it.Path, o.file, o.it.SHA256})
					}
				}
			}
			c.mu.Lock()
			c.busy += time.Since(t)
			c.mu.Unlock()
			free := false
			for _, o := range batch { // in the order they finished: the clipboard ends on the last
				e.announce(o)
				// Counted until announced, so Status never shows an upload
				// as neither running nor done.
				e.mu.Lock()
				e.finishing--
				if o.last {
					e.finishingReqs--
				}
				free = free || e.slotsLocked() < e.cfg.Concurrency
				e.mu.Unlock()
			}
			if free {
				e.kick() // a worker may have stopped for want of room
			}
			if e.st.foldDue() {
				c.fold(e)
			}
			idle.Reset(foldIdle)
			continue
		}
		select {
		case <-c.wake:
		case <-idle.C:
			c.fold(e)
		case <-c.quit:
			c.mu.Lock()
			empty := len(c.queue) == 0
			c.mu.Unlock()
			if empty {
				c.fold(e)
				return
			}
		}
	}
}

// fold folds the link log into the database, then deletes the local files
// whose links it made durable (DeleteAfterUpload). It runs on the
// committer's goroutine, which also records links, so every removal
// waiting here has its record in the log or the database already.
func (c *committer) fold(e *Engine) {
	if e.st.pendingFolds() {
		if err := e.st.fold(); err != nil {
			e.log.Warn("fold the link log into the queue", "err", err)
			return
		}
		c.mu.Lock()
		c.folds++
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.removing = append(c.removing, c.remove...)
	c.remove = nil
	c.mu.Unlock()
	select {
	case c.rwake <- struct{}{}:
	default:
	}
}

// removeLoop deletes the local files whose links were folded, in order,
// until stop; it finishes what was handed over first.
func (c *committer) removeLoop(e *Engine) {
	defer close(c.rdone)
	for {
		c.mu.Lock()
		batch := c.removing
		c.removing = nil
		c.mu.Unlock()
		for _, r := range batch {
			// Only the file that was uploaded: the next capture may have
			// been saved under the same name meanwhile.
			if _, err := removeUploaded(r); err != nil && !errors.Is(err, fs.ErrNotExist) {
				e.log.Warn("delete after upload: the file is kept", "path", r.path, "err", err)
			}
			c.mu.Lock()
			c.checked++
			c.mu.Unlock()
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-c.rwake:
		case <-c.rquit:
			c.mu.Lock()
			empty := len(c.removing) == 0
			c.mu.Unlock()
			if empty {
				return
			}
		}
	}
}

// removal is a local file to delete after upload, as it was uploaded.
type removal struct {
	path string
	fi   fs.FileInfo
	sum  string // sha256 of the bytes uploaded
}

func (c *committer) removeAfterFold(r removal) {
	c.mu.Lock()
	c.remove = append(c.remove, r)
	c.mu.Unlock()
}

// stop waits until every handed-over result is on disk.
func (c *committer) stop() {
	close(c.quit)
	<-c.done
	close(c.rquit) // after the last fold handed its removals over
	<-c.rdone
}

// upload does one attempt and decides what happens next. pre: the bytes
// the watcher read, used if the file is still that version.
// prepared is a file read (when small), hashed and checked against the
// upload records, ready to send.
type prepared struct {
	it      Item
	fi      fs.FileInfo
	data    []byte // nil: streamed from disk
	key     string // upload record key
	c       *zipline.Client
	set     Settings
	optsKey string // set.Options' part of key
	lim     zipline.Limits
	limOK   bool
	chunked bool
}

// prepare reads and hashes it, and gives its outcome when there is nothing
// to send (deleted, reused link, an error). With lead, it is a member of
// lead's group: it goes with lead's client and settings, and only a file
// read into memory will do (a bigger one goes back to the queue to be sent
// on its own).
func (e *Engine) prepare(ctx context.Context, it Item, gen uint64, pre *prefetched, lead *prepared) (prepared, outcome, bool) {
	fi, data, ok := pre.current(it.Path)
	pre.release()
	var err error
	if ok {
		e.preBudget.hits.Add(1)
	} else {
		fi, data, err = readSmall(it.Path)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return prepared{}, e.skip(it, "the file was deleted before it could be uploaded"), false
		}
		if errors.Is(err, errNotRegular) {
			return prepared{}, e.skip(it, "not a regular file"), false
		}
		return prepared{}, e.fail(ctx, it, gen, fmt.Errorf("read %s: %w", it.Path, err)), false
	}
	if data == nil && lead != nil {
		it.solo = true
		return prepared{}, e.putBack(ctx, gen, it), false
	}
	it.Size, it.ModTime = fi.Size(), fi.ModTime()
	var sum string
	if data != nil {
		h := sha256.Sum256(data)
		sum, it.Size = hex.EncodeToString(h[:]), int64(len(data))
	} else if sum, err = hashFile(ctx, it.Path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return prepared{}, e.skip(it, "the file was deleted before it could be uploaded"), false
		}
		if errors.Is(err, errNotRegular) {
			return prepared{}, e.skip(it, "not a regular file"), false
		}
		return prepared{}, e.fail(ctx, it, gen, err), false
	}
	it.SHA256 = sum
	var c *zipline.Client
	var set Settings
	var optsKey string
	if lead != nil {
		c, set, optsKey = lead.c, lead.set, lead.optsKey
	} else {
		if c, err = e.cfg.Credentials.Client(ctx); err != nil {
			return prepared{}, e.fail(ctx, it, gen, fmt.Errorf("sign-in: %w", err)), false
		}
		set, optsKey = e.live.getKeyed()
	}
	key := c.Server() + "|" + sum + "|" + optsKey
	// The same content of the same file (seen again after a touch or a
	// rewrite) is never uploaded twice; other files with the same content
	// only with ReuseLinks.
	if rec, ok, _ := e.st.record(key); ok && (e.cfg.ReuseLinks || rec.Path == it.Path) {
		switch reuse, err := e.stillThere(ctx, c, rec); {
		case err != nil:
			return prepared{}, e.fail(ctx, it, gen, err), false
		case reuse:
			return prepared{}, reused(it, fi, rec, set.LinkFormat), false
		default:
			_ = e.st.deleteRecord(key)
		}
	}
	p := prepared{it: it, fi: fi, data: data, key: key, c: c, set: set, optsKey: optsKey}
	if lead != nil {
		p.lim, p.limOK = lead.lim, lead.limOK
	} else {
		p.lim, err = c.Limits(ctx)
		p.limOK = err == nil
	}
	p.chunked = p.limOK && p.lim.ChunksEnabled && p.lim.ChunkMin > 0 && it.Size >= p.lim.ChunkMin
	return p, outcome{}, true
}

// reused is the outcome of a file whose content the server has already,
// as rec.
func reused(it Item, fi fs.FileInfo, rec record, format string) outcome {
	it.State, it.URL, it.FileID, it.Reused = StateDone, rec.URL, rec.FileID, true
	it.Reason, it.Retrying, it.NextAttempt = "", false, time.Time{}
	ev := Event{Item: it.ID, Path: it.Path, Folder: it.Folder}
	ev.Type, ev.URL, ev.RawURL, ev.FileID, ev.Reused = EventUploaded, rec.URL, rec.RawURL, rec.FileID, true
	ev.Link = link(format, rec.URL, rec.RawURL, filepath.Base(it.Path))
	return outcome{it: it, ev: ev, drop: true, file: fi}
}

// send uploads one prepared file on its own.
func (e *Engine) send(ctx context.Context, gen uint64, p prepared) outcome {
	it, data, c, set, chunked := p.it, p.data, p.c, p.set, p.chunked
	var err error
	up := zipline.BytesUpload(filepath.Base(it.Path), data)
	if data == nil {
		if up, err = zipline.FileUpload(it.Path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return e.skip(it, "the file was deleted before it could be uploaded")
			}
			return e.fail(ctx, it, gen, err)
		}
		if up.Size != it.Size { // changed since it was hashed
			return e.fail(ctx, it, gen, fmt.Errorf("upload %s: %w", filepath.Base(it.Path), zipline.ErrFileChanged))
		}
		path := it.Path
		up.Open = func() (io.ReadCloser, error) { return openRegular(path) }
	}
	var lastProgress time.Time
	var processing sync.Once
	progress := func(sent, total int64) {
		now := time.Now()
		if sent < total && now.Sub(lastProgress) < 100*time.Millisecond {
			return
		}
		if sent >= total && lastProgress.IsZero() && !chunked {
			return // sent at once: "uploaded" follows, a progress event says nothing
		}
		lastProgress = now
		e.ev.publish(Event{Type: EventProgress, Item: it.ID, Path: it.Path, Sent: sent, Total: total})
		if chunked && sent >= total {
			processing.Do(func() {
				p := it
				p.State, p.Updated = StateProcessing, now
				if err := e.st.putItem(&p); err != nil {
					e.log.Warn("record processing", "path", it.Path, "err", err)
				}
				e.mu.Lock()
				if cur, ok := e.items[it.ID]; ok {
					cur.State = StateProcessing
				}
				e.mu.Unlock()
				e.ev.publish(Event{Type: EventProcessing, Item: it.ID, Path: it.Path})
			})
		}
	}
	// The queue may have been gated (429) or paused (401) while this file
	// was hashed: check again right before the request, and once more when
	// the client opens the body, so no request starts inside a wait.
	if e.held() {
		return e.putBack(ctx, gen, it)
	}
	open := up.Open
	up.Open = func() (io.ReadCloser, error) {
		if e.held() {
			return nil, errHeld
		}
		return open()
	}
	f, err := c.Upload(ctx, up, set.Options, progress)
	if errors.Is(err, errHeld) {
		return e.putBack(ctx, gen, it)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return e.skip(it, "the file was deleted before it could be uploaded")
		}
		if errors.Is(err, errNotRegular) {
			return e.skip(it, "not a regular file")
		}
		return e.fail(ctx, it, gen, fmt.Errorf("upload %s: %w", filepath.Base(it.Path), err))
	}
	p.it = it
	return e.uploaded(ctx, p, f)
}

// uploaded is the outcome of a prepared file the server now has as f.
func (e *Engine) uploaded(ctx context.Context, p prepared, f *zipline.UploadedFile) outcome {
	it, c := p.it, p.c
	raw := RawURL(f.URL, f.Name)
	it.State, it.URL, it.FileID = StateDone, f.URL, f.ID
	it.Reason, it.Retrying, it.NextAttempt = "", false, time.Time{}
	rec := record{URL: f.URL, RawURL: raw, FileID: f.ID, Name: f.Name, DeletesAt: f.DeletesAt, Time: time.Now(), Path: it.Path}
	h := &HistoryEntry{
		Name: filepath.Base(it.Path), URL: f.URL, RawURL: raw, FileID: f.ID, Server: c.Server(),
		Size: it.Size, Time: rec.Time, Path: it.Path, SHA256: it.SHA256, Item: it.ID, Options: p.key, Deletes: f.DeletesAt,
	}
	h.User, _ = c.UserID(ctx) // asked once per sign-in; unknown is fine
	ev := Event{Item: it.ID, Path: it.Path, Folder: it.Folder}
	ev.Type, ev.URL, ev.RawURL, ev.FileID = EventUploaded, f.URL, raw, f.ID
	ev.Link = link(p.set.LinkFormat, f.URL, raw, filepath.Base(it.Path))
	return outcome{it: it, ev: ev, record: p.key, rec: rec, history: h, drop: true, file: p.fi}
}

func link(format, page, raw, name string) string {
	l, err := FormatLink(format, page, raw, name)
	if err != nil {
		return page
	}
	return l
}

// stillThere reports whether an earlier upload can be reused: the server
// still has the file and it has not expired.
func (e *Engine) stillThere(ctx context.Context, c *zipline.Client, rec record) (bool, error) {
	if rec.DeletesAt != "" && rec.DeletesAt != "never" {
		if t, err := time.Parse(time.RFC3339, rec.DeletesAt); err == nil && !t.After(time.Now()) {
			return false, nil
		}
	}
	f, err := c.File(ctx, rec.FileID)
	if errors.Is(err, zipline.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check earlier upload %s: %w", rec.FileID, err)
	}
	if f.DeletesAt != nil && !f.DeletesAt.After(time.Now()) {
		return false, nil
	}
	return true, nil
}

// held reports whether uploads must not start now (401 pause or 429 gate).
func (e *Engine) held() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.paused || time.Now().Before(e.gate)
}

// putBack puts a running item back in the queue, unless it was cancelled
// meanwhile (or the engine is closing: then it stays queued as it is).
func (e *Engine) putBack(ctx context.Context, gen uint64, it Item) outcome {
	if ctx.Err() != nil {
		return e.fail(ctx, it, gen, ctx.Err())
	}
	return e.requeue(it)
}

// requeue puts an item back without counting an attempt.
func (e *Engine) requeue(it Item) outcome {
	it.State, it.Attempts = StateQueued, max(it.Attempts-1, 0)
	return outcome{it: it}
}

func (e *Engine) skip(it Item, reason string) outcome {
	it.State, it.Reason, it.Retrying, it.NextAttempt = StateSkipped, reason, false, time.Time{}
	return outcome{it: it, drop: true, ev: Event{Type: EventSkipped, Item: it.ID, Path: it.Path, Folder: it.Folder, Reason: reason}}
}

// fail sorts an error into: cancelled, shutdown (stays queued), 401 (queue
// pauses), 429 (queue-wide gate), permanent, or retry with back-off.
func (e *Engine) fail(ctx context.Context, it Item, gen uint64, err error) outcome {
	ev := Event{Item: it.ID, Path: it.Path, Folder: it.Folder}
	now := time.Now()
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		if errors.Is(cause, errCancelled) {
			it.State, it.Reason, it.Retrying = StateCancelled, "cancelled by the user", false
			ev.Type = EventCancelled
			return outcome{it: it, ev: ev, drop: true}
		}
		// Shutdown: the next start picks it up again.
		it.State, it.Attempts = StateQueued, max(it.Attempts-1, 0)
		return outcome{it: it}
	}
	var apiErr *zipline.APIError
	errors.As(err, &apiErr)
	switch {
	case errors.Is(err, zipline.ErrUnauthorized):
		it.State, it.Attempts, it.Reason = StateQueued, max(it.Attempts-1, 0), "waiting for sign-in"
		e.mu.Lock()
		announce := !e.paused && gen == e.credGen
		if gen == e.credGen {
			e.paused = true
		}
		e.mu.Unlock()
		if announce {
			e.log.Warn("the server rejected the token; uploads paused until you sign in again", "err", err)
			e.ev.publish(Event{Type: EventAuthRequired, Reason: "Zipline rejected the saved token — sign in again"})
			e.ev.publish(Event{Type: EventPaused, Reason: "sign-in required"})
		}
		return outcome{it: it}
	case errors.Is(err, zipline.ErrRateLimited):
		wait := e.cfg.RateLimitWait
		if apiErr != nil && apiErr.RetryAfter > 0 {
			wait = apiErr.RetryAfter
		}
		until := now.Add(wait)
		e.mu.Lock()
		if until.After(e.gate) {
			e.gate = until
		}
		until = e.gate
		announce := !e.gateSaid
		e.gateSaid = true
		e.mu.Unlock()
		if announce {
			e.log.Info("rate limited by the server; waiting", "until", until)
			e.ev.publish(Event{Type: EventPaused, Reason: "rate limited by the server", Until: until})
		}
		// Not the file's fault: it stays queued, behind the gate.
		it.State, it.Retrying, it.NextAttempt, it.Attempts = StateQueued, false, until, max(it.Attempts-1, 0)
		it.Reason = "rate limited by the server; waiting"
		ev.Type, ev.Reason, ev.Retrying, ev.NextAttempt = EventFailed, it.Reason, true, until
		return outcome{it: it, ev: ev}
	case errors.Is(err, zipline.ErrBadRequest), errors.Is(err, zipline.ErrTooLarge),
		errors.Is(err, zipline.ErrQuota), errors.Is(err, zipline.ErrForbidden),
		errors.Is(err, zipline.ErrNotFound), errors.Is(err, zipline.ErrInsecureHTTP):
		it.State, it.Retrying, it.NextAttempt = StateFailed, false, time.Time{}
		it.Reason = err.Error()
		if apiErr != nil && apiErr.Message != "" {
			it.Reason = apiErr.Message
		}
	default:
		d := backoff(e.cfg.RetryBase, e.cfg.RetryMax, it.Attempts)
		it.State, it.Retrying, it.NextAttempt = StateFailed, true, now.Add(d)
		it.Reason = err.Error()
	}
	e.log.Warn("upload failed", "path", it.Path, "retrying", it.Retrying, "next", it.NextAttempt, "err", err)
	ev.Type, ev.Reason, ev.Retrying, ev.NextAttempt = EventFailed, it.Reason, it.Retrying, it.NextAttempt
	return outcome{it: it, ev: ev}
}

// backoff is base·2^(attempt-1), capped, with jitter in [d/2, d].
func backoff(base, cap time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < cap; i++ {
		d *= 2
	}
	d = min(d, cap)
	return d/2 + rand.N(d/2+1)
}

// hashBufs saves allocating (and zeroing) a read buffer per file: in a
// burst of small files that was most of the cost of hashing them.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// smallFile: a file up to this size is read once into memory, hashed and
// sent from there — one open instead of three, which matters in a burst of
// screenshots (a few hundred KB each). Larger files are streamed.
const smallFile = 4 << 20

// errNotRegular: a FIFO, device or folder where a file was.
var errNotRegular = errors.New("not a regular file")

// openRegular opens a regular file for reading; anything else (a FIFO put
// in its place) gives errNotRegular instead of blocking.
func openRegular(path string) (*os.File, error) {
	f, _, err := openStat(path)
	return f, err
}

// openStat opens a regular file for reading, with its info.
func openStat(path string) (*os.File, fs.FileInfo, error) {
	f, err := openRead(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &os.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// readSmall returns a regular file's info, and its bytes if it is small.
func readSmall(path string) (fs.FileInfo, []byte, error) {
	f, fi, err := openStat(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if fi.Size() > smallFile {
		return fi, nil, nil
	}
	data, err := readSize(f, fi.Size())
	return fi, data, err
}

// readSize reads a file of size bytes. A file with more or fewer bytes
// (changed since: still being written, or truncated) gives nil, to be
// streamed, which notices and reports the change.
func readSize(f io.Reader, size int64) ([]byte, error) {
	data := make([]byte, size+1)
	n, err := io.ReadFull(f, data)
	switch {
	case err == nil:
		return nil, nil
	case (err == io.ErrUnexpectedEOF || err == io.EOF) && int64(n) == size:
		return data[:n], nil
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return nil, nil
	}
	return nil, err
}

func hashFile(ctx context.Context, path string) (string, error) {
	f, err := openRegular(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	bp := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(bp)
	buf := *bp
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// recordKey identifies "this content, with these options, on this server".
// recordKey is an upload record's key: the same content with the same
// options to the same server.
func recordKey(server, sum string, o zipline.UploadOptions) string {
	return server + "|" + sum + "|" + OptionsKey(o)
}

func sortItems(items []Item) {
	slices.SortFunc(items, func(a, b Item) int { return cmp.Compare(a.ID, b.ID) })
}

// clipSetter puts links on the clipboard from one goroutine, so a burst
// never thrashes it: if links arrive faster than the clipboard takes them,
// only the newest is set. The final state is the last finished upload.
type clipSetter struct {
	cb      Clipboard
	log     *slog.Logger
	mu      sync.Mutex
	next    string
	have    bool
	lastErr string // only touched by run
	wake    chan struct{}
	done    chan struct{}
	quit    chan struct{}
}

func newClipSetter(cb Clipboard, log *slog.Logger) *clipSetter {
	c := &clipSetter{cb: cb, log: log, wake: make(chan struct{}, 1), done: make(chan struct{}), quit: make(chan struct{})}
	go c.run()
	return c
}

func (c *clipSetter) set(s string) {
	c.mu.Lock()
	c.next, c.have = s, true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *clipSetter) run() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
		case <-c.quit:
			c.flush()
			return
		}
		c.flush()
	}
}

func (c *clipSetter) flush() {
	c.mu.Lock()
	s, ok := c.next, c.have
	c.have = false
	c.mu.Unlock()
	if ok {
		err := c.cb.SetText(s)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != "" && msg != c.lastErr { // say it once, not per upload
			c.log.Warn("copy link to the clipboard", "err", err)
		}
		c.lastErr = msg
	}
}

func (c *clipSetter) close() {
	close(c.quit)
	<-c.done
}
