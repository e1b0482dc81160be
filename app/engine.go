package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/uploader"
)

// UploaderEngine adapts the upload engine (package uploader) to Engine.
// It also runs the folder watcher: Watch starts it, Pause stops it,
// Resume and a settings change restart it.
type UploaderEngine struct {
	E *uploader.Engine

	mu        sync.Mutex
	paused    bool // paused by the user
	subs      []chan Event
	watchCfg  uploader.AutoConfig
	stopWatch context.CancelFunc
	watchDone chan struct{}
}

// Watch applies cfg: upload options, link format and copying for the next
// uploads, and (re)starts watching its folders; an empty list stops it.
func (a *UploaderEngine) Watch(cfg *auth.Config) {
	if err := a.E.SetSettings(uploader.Settings{Options: cfg.Upload.Options(), LinkFormat: cfg.Links.Format, CopyLinks: cfg.Links.Copy}); err != nil {
		slog.Warn("settings not applied", "err", err)
	}
	ac := uploader.AutoConfig{Include: cfg.Watch.Include, CatchUp: cfg.Watch.CatchUp}
	if ac.Include == nil {
		ac.Include = []string{}
	}
	for _, f := range cfg.Watch.Folders {
		ac.Folders = append(ac.Folders, uploader.WatchFolder{Path: f.Path, Recursive: f.Recursive})
	}
	a.mu.Lock()
	a.watchCfg = ac
	paused := a.paused
	a.mu.Unlock()
	a.restartWatch(!paused)
}

// restartWatch stops the running watch and, if run, starts a new one.
func (a *UploaderEngine) restartWatch(run bool) {
	a.mu.Lock()
	stop, done := a.stopWatch, a.watchDone
	a.stopWatch, a.watchDone = nil, nil
	ac := a.watchCfg
	a.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	if !run || len(ac.Folders) == 0 {
		a.publish(Event{Kind: WatchChanged})
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan struct{})
	a.mu.Lock()
	a.stopWatch, a.watchDone = cancel, done
	a.mu.Unlock()
	go func() {
		defer close(done)
		if err := a.E.Watch(ctx, ac); err != nil {
			slog.Warn("watch folders", "err", err)
		}
		a.publish(Event{Kind: WatchChanged})
	}()
	a.publish(Event{Kind: WatchChanged})
}

// StopWatching stops the watcher (at exit).
func (a *UploaderEngine) StopWatching() {
	a.mu.Lock()
	a.watchCfg.Folders = nil
	a.mu.Unlock()
	a.restartWatch(false)
}

func (a *UploaderEngine) publish(ev Event) {
	a.mu.Lock()
	subs := append([]chan Event(nil), a.subs...)
	a.mu.Unlock()
	for _, c := range subs {
		select {
		case c <- ev:
		default:
		}
	}
}

// historyLimit is how many past uploads the windows show.
const historyLimit = 200

// Enqueue implements Engine: an explicit upload, even of a file sent before.
func (a *UploaderEngine) Enqueue(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	_, _, err = a.E.Add(abs, uploader.AddOptions{Source: uploader.SourceUser, Force: true})
	return err
}

// Subscribe implements Engine.
func (a *UploaderEngine) Subscribe() (<-chan Event, func()) {
	in, stop := a.E.Subscribe()
	out := make(chan Event, 64)
	a.mu.Lock()
	a.subs = append(a.subs, out)
	a.mu.Unlock()
	done := make(chan struct{})
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			close(done)
			stop()
		})
	}
	go func() {
		defer func() {
			a.mu.Lock()
			for i, c := range a.subs {
				if c == out {
					a.subs = append(a.subs[:i], a.subs[i+1:]...)
					break
				}
			}
			a.mu.Unlock()
		}()
		for ev := range in {
			if e, ok := translate(ev); ok {
				select {
				case out <- e:
				case <-done:
					return
				}
			}
		}
	}()
	return out, cancel
}

func translate(ev uploader.Event) (Event, bool) {
	e := Event{Job: ev.Item.String(), Path: ev.Path, Sent: ev.Sent, Total: ev.Total,
		URL: ev.URL, Reason: ev.Reason, Retrying: ev.Retrying}
	switch ev.Type {
	case uploader.EventQueued:
		e.Kind = Queued
	case uploader.EventStarted:
		e.Kind = Progress
	case uploader.EventProgress:
		e.Kind = Progress
	case uploader.EventProcessing:
		e.Kind = Processing
	case uploader.EventUploaded:
		e.Kind = Uploaded
		if e.URL == "" {
			e.URL = ev.Link
		}
	case uploader.EventFailed:
		e.Kind = Failed
	case uploader.EventSkipped:
		e.Kind = Skipped
	case uploader.EventCancelled:
		e.Kind = Cancelled
	case uploader.EventAuthRequired:
		e.Kind, e.Job = AuthRequired, ""
	case uploader.EventFolder:
		e.Kind, e.Job, e.Path = WatchChanged, "", ev.Folder
	default:
		// Engine-wide pauses (rate limit, sign-in) show on the items and
		// through AuthRequired; Paused/Resumed are the user's.
		return Event{}, false
	}
	return e, true
}

// Queue implements Engine.
func (a *UploaderEngine) Queue() []Job {
	var out []Job
	for _, it := range a.E.Queue() {
		if it.State.Terminal() {
			continue
		}
		j := Job{ID: it.ID.String(), Path: it.Path, Reason: it.Reason, Retrying: it.Retrying, NextTry: it.NextAttempt, Total: it.Size}
		switch it.State {
		case uploader.StateUploading:
			j.State = StateUploading
		case uploader.StateProcessing:
			j.State = StateProcessing
		case uploader.StateFailed:
			j.State = StateFailed
		}
		out = append(out, j)
	}
	return out
}

// History implements Engine. Record ids are "h<history id>".
func (a *UploaderEngine) History() []Record {
	hs, err := a.E.History(historyLimit)
	if err != nil {
		return nil
	}
	out := make([]Record, 0, len(hs))
	for _, h := range hs {
		name := h.Name
		if name == "" {
			name = filepath.Base(h.Path)
		}
		out = append(out, Record{ID: "h" + strconv.FormatUint(h.ID, 10), Path: h.Path, Name: name, URL: h.URL, Size: h.Size, Time: h.Time})
	}
	return out
}

func parseItem(id string) (uploader.ItemID, error) {
	n, err := uploader.ParseItemID(id)
	if err != nil {
		return 0, fmt.Errorf("no queue item %q", id)
	}
	return n, nil
}

// Retry implements Engine.
func (a *UploaderEngine) Retry(id string) error {
	n, err := parseItem(id)
	if err != nil {
		return err
	}
	return a.E.Retry(n)
}

// RetryAll implements Engine.
func (a *UploaderEngine) RetryAll() { a.E.RetryAll() }

// Cancel implements Engine.
func (a *UploaderEngine) Cancel(id string) error {
	n, err := parseItem(id)
	if err != nil {
		return err
	}
	return a.E.Cancel(n)
}

// pauser is implemented by engines that can hold the queue on request.
type pauser interface {
	Pause()
	Resume()
}

// Pause implements Engine.
func (a *UploaderEngine) Pause() { a.setPaused(true) }

// Resume implements Engine.
func (a *UploaderEngine) Resume() { a.setPaused(false) }

func (a *UploaderEngine) setPaused(on bool) {
	if p, ok := any(a.E).(pauser); ok {
		if on {
			p.Pause()
		} else {
			p.Resume()
		}
	}
	a.mu.Lock()
	a.paused = on
	a.mu.Unlock()
	a.restartWatch(!on)
	kind := Resumed
	if on {
		kind = Paused
	}
	a.publish(Event{Kind: kind})
}

// Paused implements Engine.
func (a *UploaderEngine) Paused() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.paused
}

// CredentialsChanged implements Engine.
func (a *UploaderEngine) CredentialsChanged() { a.E.CredentialsChanged() }

// DeleteRemote implements Engine. id is a history record ("h12") or the
// queue item of a finished upload ("7").
func (a *UploaderEngine) DeleteRemote(ctx context.Context, id string) error {
	if rest, ok := strings.CutPrefix(id, "h"); ok {
		n, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			return fmt.Errorf("no upload %q in the history", id)
		}
		return a.E.DeleteHistory(ctx, n)
	}
	item, err := parseItem(id)
	if err != nil {
		return err
	}
	hs, err := a.E.History(historyLimit)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if h.Item == item {
			return a.E.DeleteHistory(ctx, h.ID)
		}
	}
	return fmt.Errorf("upload %s is not in the history", id)
}

// Watching implements Engine.
func (a *UploaderEngine) Watching() []FolderStatus {
	a.mu.Lock()
	ac, paused := a.watchCfg, a.paused
	a.mu.Unlock()
	live := map[string]uploader.FolderStatus{}
	for _, f := range a.E.WatcherStatus() {
		live[f.Path] = f
	}
	out := make([]FolderStatus, 0, len(ac.Folders))
	for _, f := range ac.Folders {
		fs := FolderStatus{Path: f.Path, Text: "Starting…"}
		if paused {
			fs.Text = "Paused"
		}
		// The watcher reports cleaned absolute paths.
		st, ok := live[f.Path]
		if !ok {
			if abs, err := filepath.Abs(f.Path); err == nil {
				st, ok = live[filepath.Clean(abs)]
			}
		}
		if ok {
			switch st.State {
			case uploader.FolderWatching:
				fs.OK, fs.Text = true, "Watching"
			case uploader.FolderWaiting:
				fs.Text = "Waiting for the folder to exist"
			default:
				fs.Text = "Not watched"
			}
			if st.Err != "" {
				fs.Text += ": " + st.Err
			}
		}
		out = append(out, fs)
	}
	return out
}
