// Package app is zipline-tray's desktop interface: the tray icon and menu,
// the drop zone, the sign-in, queue and settings windows, and
// notifications. It is the only package besides main that imports Fyne, and
// it never creates the fyne.App itself, so it tests headless with
// fyne.io/fyne/v2/test.
//
// Hooks for tests that drive the real binary (internal/guitest): the tray
// menu labels (Menu*), notification titles (Note*) and window titles
// (*Title) are constants; the first menu entry reads "Signed in as NAME on
// HOST", MenuNotSignedIn, or MenuSignInAgain after a 401 (clickable).
// Notification actions are "default" (open) and "delete". The environment
// variable ZIPLINE_TRAY_SHOW (package main) opens windows by name at start
// (see UI.Show). Without a tray host the drop zone is the main window.
package app

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/systray"

	"github.com/zipline-tray/zipline-tray/auth"
)

// Options wires the UI to the rest of the program. Engine, Account and
// Settings are required.
type Options struct {
	Engine   Engine
	Account  Account
	Settings SettingsStore
	// Notifier shows notifications; nil uses Fyne's plain ones.
	Notifier Notifier
	Version  string
	// StateDir holds clipboard images; LogFile is opened by "Open logs".
	StateDir string
	LogFile  string
	// HasTray says a tray host is present. Without one the drop zone is the
	// main window (closing it quits) so the app stays reachable.
	HasTray bool
	// SettingsChanged runs after the settings window saved (on the UI goroutine).
	SettingsChanged func(*auth.Config)
	// ClipboardImage reads an image from the clipboard into a file in dir;
	// nil uses xclip or wl-paste.
	ClipboardImage func(ctx context.Context, dir string) (string, error)
	// Do runs fn on the UI goroutine; nil means fyne.Do. Tests pass their
	// own to run UI updates on the test goroutine.
	Do func(fn func())
	// BurstWindow is how long notifications are held to merge a burst
	// (default 1.5 s).
	BurstWindow time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// UI is the running desktop interface. Its methods must be called on the
// UI goroutine (Fyne callbacks, or through fyne.Do) unless they say
// otherwise.
type UI struct {
	app  fyne.App
	opts Options
	do   func(func())
	log  *slog.Logger

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex // guards stopped, so no goroutine starts while Stop waits
	stopped bool

	settings *auth.Config

	// Account state.
	server, user string
	authFailed   bool // the server rejected the token (401)
	checking     bool // the saved token is being checked

	paused bool
	jobs   map[string]*Job // live jobs by id, from events
	recent []Record        // newest first

	trayMenu *fyne.Menu
	trayKey  string
	trayIcon fyne.Resource

	drop        *dropZone // nil until first shown (lazy.go)
	pending     pendingDrop
	signIn      *signInWindow
	queue       *queueWindow
	settingsWin *settingsWindow
	about       fyne.Window

	burst burst
}

// New builds the UI; Start shows it.
func New(a fyne.App, o Options) *UI {
	u := &UI{app: a, opts: o, jobs: map[string]*Job{}}
	u.do = o.Do
	if u.do == nil {
		u.do = fyne.Do
	}
	u.log = o.Logger
	if u.log == nil {
		u.log = slog.Default()
	}
	if u.opts.Notifier == nil {
		u.opts.Notifier = FyneNotifier{App: a}
	}
	if u.opts.BurstWindow <= 0 {
		u.opts.BurstWindow = 1500 * time.Millisecond
	}
	if u.opts.ClipboardImage == nil {
		u.opts.ClipboardImage = ReadClipboardImage
	}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	return u
}

// Start loads the settings, follows the engine's events, sets up the tray,
// checks the saved token in the background and opens the first window:
// sign-in without credentials, the drop zone without a tray host.
func (u *UI) Start() {
	if s, err := u.opts.Settings.Load(); err != nil {
		u.log.Warn("load settings", "err", err)
	} else {
		u.settings = s
	}
	if u.settings == nil {
		u.settings = auth.Defaults()
	}
	u.server, u.user = u.opts.Account.Current()
	u.paused = u.opts.Engine.Paused()
	u.recent = u.opts.Engine.History()
	for _, j := range u.opts.Engine.Queue() {
		j := j
		u.jobs[j.ID] = &j
	}

	events, stop := u.opts.Engine.Subscribe()
	u.spawn(func() {
		defer stop()
		for {
			select {
			case <-u.ctx.Done():
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				u.do(func() { u.handle(ev) })
			}
		}
	})

	if _, ok := u.app.(desktop.App); ok && u.opts.HasTray {
		// What SetSystemTrayWindow does, but through ShowDropZone, which
		// builds the window on first use (lazy.go); newDropZone makes its
		// close button hide it. Set before the tray registers, which reads
		// it to tell the host that a left click activates the item.
		systray.SetOnTapped(func() { u.do(u.ShowDropZone) })
	}
	u.refreshTray()

	switch {
	case u.user == "":
		if !u.opts.HasTray {
			u.ShowDropZone()
		}
		u.ShowSignIn()
	default:
		if !u.opts.HasTray {
			u.ShowDropZone()
		}
		u.checkToken()
	}
}

// Stop ends the background work (event loop, timers). It does not quit the
// Fyne app.
func (u *UI) Stop() {
	u.mu.Lock()
	u.stopped = true
	u.mu.Unlock()
	u.cancel()
	u.wg.Wait()
}

// spawn runs f on a new goroutine that Stop waits for, unless the UI has
// stopped.
func (u *UI) spawn(f func()) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.stopped {
		return
	}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		f()
	}()
}

// checkToken validates the saved token off the UI goroutine.
func (u *UI) checkToken() {
	u.checking = true
	u.refreshTray()
	u.goBackground(func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		name, err := u.opts.Account.Check(ctx)
		return func() {
			u.checking = false
			if err != nil {
				u.log.Warn("check saved token", "err", err)
				if isUnauthorized(err) {
					u.setAuthFailed()
				} else if u.ctx.Err() == nil {
					u.dropNote("Could not check the saved sign-in: " + u.opts.Account.Explain(err))
				}
				u.refreshTray()
				return
			}
			u.user = name
			u.refreshTray()
			u.refreshWindows()
		}
	})
}

// goBackground runs work on its own goroutine and the function it returns
// on the UI goroutine, unless the UI stopped meanwhile.
func (u *UI) goBackground(work func(ctx context.Context) func()) {
	u.spawn(func() {
		done := work(u.ctx)
		if done == nil || u.ctx.Err() != nil {
			return
		}
		u.do(done)
	})
}

// Show opens a window by name: "dropzone", "signin", "queue", "settings"
// or "about". It reports whether the name is known. (Screenshots and the
// tray harness open windows with it through $ZIPLINE_TRAY_SHOW.)
func (u *UI) Show(name string) bool {
	switch name {
	case "dropzone":
		u.ShowDropZone()
	case "signin":
		u.ShowSignIn()
	case "queue":
		u.ShowQueue()
	case "settings":
		u.ShowSettings()
	case "about":
		u.ShowAbout()
	default:
		return false
	}
	return true
}

// AddFiles queues files, e.g. from the command line or another instance.
// It may be called from any goroutine.
func (u *UI) AddFiles(paths []string) {
	u.spawn(func() { u.enqueue(paths) })
}

// enqueue runs off the UI goroutine: the engine may touch the disk.
func (u *UI) enqueue(paths []string) {
	for _, p := range paths {
		if err := u.opts.Engine.Enqueue(p); err != nil {
			u.log.Warn("enqueue", "path", p, "err", err)
			name := filepath.Base(p)
			msg := u.opts.Account.Explain(err)
			u.do(func() { u.dropNote(name + ": " + msg) })
		}
	}
}

// handle applies one engine event. UI goroutine.
func (u *UI) handle(ev Event) {
	switch ev.Kind {
	case Queued:
		u.jobs[ev.Job] = &Job{ID: ev.Job, Path: ev.Path, State: StateQueued}
	case Progress:
		j := u.job(ev)
		j.State, j.Sent, j.Total = StateUploading, ev.Sent, ev.Total
	case Processing:
		u.job(ev).State = StateProcessing
	case Uploaded:
		delete(u.jobs, ev.Job)
		r := Record{ID: ev.Job, Path: ev.Path, Name: filepath.Base(ev.Path), URL: ev.URL, Time: time.Now()}
		u.recent = append([]Record{r}, u.recent...)
		u.burst.addLink(u, r)
	case Failed:
		j := u.job(ev)
		j.State, j.Reason, j.Retrying = StateFailed, ev.Reason, ev.Retrying
		if !ev.Retrying {
			u.burst.addFailure(u, filepath.Base(ev.Path), ev.Reason)
		}
	case AuthRequired:
		// Signed out on purpose: uploads wait for a sign-in, no alarm.
		if u.user != "" {
			u.setAuthFailed()
		}
	case Paused:
		u.paused = true
	case Resumed:
		u.paused = false
	case Cancelled, Skipped:
		delete(u.jobs, ev.Job)
	}
	u.dropUpdate(ev)
	if u.queue != nil {
		u.queue.update(ev)
	}
	if u.settingsWin != nil && ev.Kind == WatchChanged {
		u.settingsWin.refreshStatus()
	}
	if ev.Kind != Progress {
		u.refreshTray()
	}
}

func (u *UI) job(ev Event) *Job {
	j := u.jobs[ev.Job]
	if j == nil {
		j = &Job{ID: ev.Job, Path: ev.Path}
		u.jobs[ev.Job] = j
	}
	return j
}

// setAuthFailed records a 401: the engine has paused the queue; tell the
// user once, with a way to sign in again.
func (u *UI) setAuthFailed() {
	if u.authFailed {
		return
	}
	u.authFailed = true
	u.notify(Note{
		Title:   NoteTokenRejected,
		Body:    "Uploads are paused and nothing is lost. Sign in again to continue.",
		Actions: []NoteAction{{Key: "default", Label: "Sign in"}},
		OnAction: func(string) {
			u.do(u.ShowSignIn)
		},
	})
	u.refreshWindows()
}

// signedIn is called after a successful sign-in. UI goroutine.
func (u *UI) signedIn(server, name string) {
	u.server, u.user, u.authFailed = server, name, false
	u.refreshTray()
	u.refreshWindows()
	// Show where files go (and, after a 401, the queue resuming).
	u.ShowDropZone()
	u.goBackground(func(context.Context) func() {
		u.opts.Engine.CredentialsChanged()
		return nil
	})
}

// SignOut forgets the token. UI goroutine.
func (u *UI) SignOut() {
	u.goBackground(func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		err := u.opts.Account.SignOut(ctx)
		u.opts.Engine.CredentialsChanged()
		return func() {
			if err != nil {
				u.dropNote(u.opts.Account.Explain(err))
				return
			}
			u.user, u.authFailed = "", false
			u.refreshTray()
			u.refreshWindows()
		}
	})
}

func (u *UI) refreshWindows() {
	if u.drop != nil {
		u.drop.refreshBanner()
	}
	if u.settingsWin != nil {
		u.settingsWin.refreshAccount()
	}
}

// TogglePause pauses or resumes the queue and the watcher.
func (u *UI) TogglePause() {
	paused := !u.paused
	u.paused = paused
	u.refreshTray()
	u.goBackground(func(context.Context) func() {
		if paused {
			u.opts.Engine.Pause()
		} else {
			u.opts.Engine.Resume()
		}
		return nil
	})
}

// CopyLink puts a link on the clipboard. UI goroutine.
func (u *UI) CopyLink(link string) {
	u.app.Clipboard().SetContent(link)
	u.ensureClipboard(link) // Wayland: wl-copy if the write did not take
}

// OpenLink opens a URL in the browser.
func (u *UI) OpenLink(link string) {
	p, err := url.Parse(link)
	if err != nil {
		return
	}
	if err := u.app.OpenURL(p); err != nil {
		u.log.Warn("open link", "err", err)
	}
}

// ShowLocalFile opens the folder that holds path.
func (u *UI) ShowLocalFile(path string) {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err != nil {
		return
	}
	if err := u.app.OpenURL(&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}); err != nil {
		u.log.Warn("show file", "err", err)
	}
}

// OpenLogs opens the log file.
func (u *UI) OpenLogs() {
	if u.opts.LogFile == "" {
		return
	}
	if err := u.app.OpenURL(&url.URL{Scheme: "file", Path: filepath.ToSlash(u.opts.LogFile)}); err != nil {
		u.log.Warn("open logs", "err", err)
	}
}

// Quit ends the app.
func (u *UI) Quit() {
	// No waiting here: a worker may be queueing a UI update right now.
	u.cancel()
	u.app.Quit()
}

// host is the server's host name for the status line.
func host(server string) string {
	p, err := url.Parse(server)
	if err != nil || p.Host == "" {
		return server
	}
	return p.Host
}
