//go:build !nogui

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"github.com/go-gl/glfw/v3.4/glfw"

	"github.com/zipline-tray/zipline-tray/app"
	"github.com/zipline-tray/zipline-tray/assets"
	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/internal/clipboard"
	"github.com/zipline-tray/zipline-tray/internal/notify"
	"github.com/zipline-tray/zipline-tray/uploader"
	"github.com/zipline-tray/zipline-tray/zipline"
)

const hasGUI = true

// appID is the Fyne application id (also in FyneApp.toml).
const appID = "io.github.zipline_tray"

// Version is the app version shown in About (set with -ldflags -X).
var Version = "0.1.0"

// runGUI starts the desktop app. args are file paths to upload (from
// "Open with" or the command line) and --verbose. If the app already runs,
// the files are handed to it (or its window raised) and this process ends.
func runGUI(args []string) int {
	verbose, show := false, false
	var files []string
	for _, a := range args {
		if a == "--verbose" {
			verbose = true
			continue
		}
		// "zipline-tray show" raises the running app's window (or starts it).
		if a == "show" && len(args) == 1 {
			if _, err := os.Stat(a); err != nil {
				show = true
				continue
			}
		}
		abs, err := filepath.Abs(a)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "zipline-tray: %s: no such file (run \"zipline-tray help\" for the commands)\n", a)
			return 2
		}
		files = append(files, abs)
	}
	// Uploader configs (.sxcu, .iscu, .itup) hold a token: import them,
	// never upload them.
	var configs []string
	files = slices.DeleteFunc(files, func(f string) bool {
		if app.IsUploaderConfig(f) {
			configs = append(configs, f)
			return true
		}
		return false
	})

	zipline.Version = Version
	paths, err := auth.DefaultPaths()
	if err == nil {
		err = paths.Ensure()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "zipline-tray:", err)
		return 1
	}
	logFile, closeLog := setupLog(paths, verbose)
	defer closeLog()

	if code, done := handOver(paths.StateDir, files, configs); done {
		return code
	}
	if (runtime.GOOS == "linux" || runtime.GOOS == "freebsd") && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		fmt.Fprintln(os.Stderr, "zipline-tray: no graphical session (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"+
			"The desktop app needs one; on a server use the commands instead (zipline-tray help).")
		return 1
	}

	if err := probeDisplay(); err != nil {
		slog.Error("open the display", "err", err)
		fmt.Fprintf(os.Stderr, "zipline-tray: cannot open the display %s — check that the graphical session is running "+
			"and that this user may use it, or use the commands instead (zipline-tray help).\n", displayName())
		return 1
	}

	a := fyneapp.NewWithID(appID)
	a.SetIcon(app.AppIcon)
	account := app.NewAuthAccount(paths.ConfigFile(), auth.NewKeyring())
	cfg, err := auth.LoadConfig(paths.ConfigFile())
	if err != nil {
		slog.Warn("settings", "err", err)
		cfg = auth.Defaults()
	}

	var ui *app.UI
	var appQuit atomic.Bool
	eng, err := uploader.Open(uploader.Config{
		StateDir:          paths.StateDir,
		Credentials:       account,
		Options:           cfg.Upload.Options(),
		Concurrency:       cfg.Watch.Concurrency,
		ReuseLinks:        cfg.Watch.ReuseLinks,
		DeleteAfterUpload: cfg.Watch.DeleteAfterUpload,
		OneFilePerRequest: cfg.Watch.OneFilePerRequest,
		CopyLinks:         cfg.Links.Copy,
		LinkFormat:        cfg.Links.Format,
		Clipboard:         clip{a, &appQuit},
		OnShow: func() error {
			fyne.Do(func() {
				if ui != nil {
					ui.ShowDropZone()
				}
			})
			return nil
		},
		OnOpen: func(configs []string) error {
			for _, c := range configs {
				if !app.IsUploaderConfig(c) {
					return fmt.Errorf("%s is not an uploader configuration (.sxcu, .iscu, .itup)", filepath.Base(c))
				}
			}
			fyne.Do(func() {
				if ui != nil {
					for _, c := range configs {
						ui.ImportConfig(c)
					}
				}
			})
			return nil
		},
		Logger: slog.Default(),
	})
	if err != nil {
		// Another process (e.g. "zipline-tray watch") owns the queue: say so
		// in a window too, for someone who started the app from a menu.
		slog.Error("open the upload queue", "err", err)
		msg := auth.Explain(err)
		if errors.Is(err, uploader.ErrOwned) {
			msg = "Another zipline-tray process (for example \"zipline-tray watch\") is running and owns the upload queue. " +
				"Stop it, then start the desktop app again: both cannot upload from one queue."
		}
		fmt.Fprintln(os.Stderr, "zipline-tray:", msg)
		app.ShowFatal(a, msg)
		return 1
	}
	defer eng.Close()

	var notifier app.Notifier
	if runtime.GOOS == "linux" || runtime.GOOS == "freebsd" {
		icon := filepath.Join(paths.StateDir, "icon.png")
		if err := os.WriteFile(icon, assets.Icon, 0o644); err != nil {
			icon = ""
		}
		if d, err := notify.Connect("Zipline Tray", icon); err == nil {
			defer d.Close()
			notifier = dbusNotifier{d: d, fallback: app.FyneNotifier{App: a}}
		} else {
			slog.Info("D-Bus notifications unavailable; using plain ones", "err", err)
		}
	}
	hasTray := true
	if runtime.GOOS == "linux" || runtime.GOOS == "freebsd" {
		hasTray = notify.HasTrayHost()
		if !hasTray {
			slog.Info("no tray host (org.kde.StatusNotifierWatcher) on the session bus: keeping a window open")
		}
	}

	engine := &app.UploaderEngine{E: eng}
	defer engine.StopWatching()
	ui = app.New(a, app.Options{
		Engine:   engine,
		Account:  account,
		Settings: app.ConfigStore{Path: paths.ConfigFile()},
		Notifier: notifier,
		Version:  Version,
		StateDir: paths.StateDir,
		LogFile:  logFile,
		HasTray:  hasTray,
		SettingsChanged: func(c *auth.Config) {
			// Everything applies at once: options and links to the next
			// upload, folders and file types by restarting the watcher.
			slog.Info("settings saved; applying them")
			go engine.Watch(c)
		},
	})
	go engine.Watch(cfg)
	// Before Run: Fyne starts the tray only if its menu is set by then.
	ui.Start()
	a.Lifecycle().SetOnStarted(func() {
		// For screenshots and tests: open these windows too.
		for _, name := range strings.Split(os.Getenv("ZIPLINE_TRAY_SHOW"), ",") {
			if name = strings.TrimSpace(name); name != "" && !ui.Show(name) {
				slog.Warn("ZIPLINE_TRAY_SHOW: unknown window", "name", name)
			}
		}
		if len(files) > 0 {
			ui.AddFiles(files)
		}
		for _, c := range configs {
			ui.ImportConfig(c)
		}
		if show {
			ui.ShowDropZone()
		}
	})
	a.Run()
	appQuit.Store(true) // before the engine closes: its last links find no clipboard
	ui.Stop()
	return 0
}

// probeDisplay opens the display the way Fyne will. Fyne 2.8 only logs a
// failed GLFW start and then panics in the first tray or window call, so
// the app checks first to explain it in a sentence. It runs on the main
// goroutine, which Fyne's driver locks to the main thread, as GLFW
// requires. Other systems always have a display.
func probeDisplay() error {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return nil
	}
	// Any platform: Fyne may force X11 in a Wayland session, so a display
	// Fyne can use is always one of these.
	glfw.InitHint(glfw.PlatformHint, int(glfw.AnyPlatform))
	if err := glfw.Init(); err != nil {
		return err
	}
	// Without Wayland GLFW can only have chosen X11, as Fyne would: leave
	// it running, so Fyne's glfw.Init returns at once instead of setting up
	// X11 again (docs/PERFORMANCE.md, issue 5). Otherwise Fyne picks the
	// platform itself (its hint, libdecor check, FYNE_PLATFORM), which
	// needs GLFW uninitialised.
	if os.Getenv("WAYLAND_DISPLAY") != "" || (os.Getenv("FYNE_PLATFORM") != "" && os.Getenv("FYNE_PLATFORM") != "x11") {
		glfw.Terminate()
	}
	return nil
}

// displayName names the display for a message: ":0", "wayland-0", or both.
func displayName() string {
	x, w := os.Getenv("DISPLAY"), os.Getenv("WAYLAND_DISPLAY")
	switch {
	case w == "":
		return x
	case x == "":
		return w
	}
	return w + " (or " + x + ")"
}

// handOver passes files to upload, uploader configs to import (or else a
// "show") to an already running app. done reports that a running app
// answered; code is the exit status.
func handOver(stateDir string, files, configs []string) (code int, done bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var reqs []uploader.Request
	if len(configs) > 0 {
		reqs = append(reqs, uploader.Request{Op: uploader.OpOpen, Paths: configs})
	}
	if len(files) > 0 {
		reqs = append(reqs, uploader.Request{Op: uploader.OpAdd, Paths: files})
	}
	if len(reqs) == 0 {
		reqs = append(reqs, uploader.Request{Op: uploader.OpShow})
	}
	for i, req := range reqs {
		resp, err := uploader.Call(ctx, stateDir, req)
		switch {
		case err == nil:
			slog.Info("handed over to the running app", "op", req.Op, "files", len(req.Paths))
			continue
		case resp != nil && req.Op == uploader.OpShow:
			// A process without a window (e.g. "zipline-tray watch") answered;
			// going on explains the situation in a window.
			slog.Info("the running process has no window", "err", err)
		case resp != nil:
			// It answered, with an error.
			fmt.Fprintln(os.Stderr, "zipline-tray:", err)
			return 1, true
		case i > 0:
			// It answered the first request, then went away.
			fmt.Fprintln(os.Stderr, "zipline-tray:", err)
			return 1, true
		case !errors.Is(err, uploader.ErrNotRunning):
			slog.Info("no running app answered", "err", err)
		}
		return 0, false
	}
	return 0, true
}

// setupLog sends slog to a file in the state folder (and stderr when
// verbose). It returns the file's path.
func setupLog(paths auth.Paths, verbose bool) (string, func()) {
	level := slog.LevelInfo
	if verbose || os.Getenv("ZIPLINE_TRAY_VERBOSE") != "" {
		level = slog.LevelDebug
	}
	dir := paths.LogDir()
	path := filepath.Join(dir, "zipline-tray.log")
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if err := os.MkdirAll(dir, 0o700); err == nil {
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
			w, closeFn = f, func() { f.Close() }
			if verbose {
				w = io.MultiWriter(f, os.Stderr)
			}
		}
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})))
	return path, closeFn
}

// clip is the engine's clipboard: Fyne's, which the running app owns; on
// Wayland, where that can fail for a window without focus, wl-copy too.
type clip struct {
	a      fyne.App
	closed *atomic.Bool // the app's loop has ended: GLFW is gone
}

var errAppQuit = errors.New("copy the link: the app has quit")

func (c clip) SetText(s string) (err error) {
	if c.closed.Load() {
		return errAppQuit
	}
	func() {
		// The loop can end (GLFW terminated) between the check and the
		// call; Fyne then runs the call right here and GLFW panics.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%w (%v)", errAppQuit, r)
			}
		}()
		fyne.DoAndWait(func() { c.a.Clipboard().SetContent(s) })
	}()
	if err != nil {
		return err
	}
	if os.Getenv("WAYLAND_DISPLAY") != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := clipboard.Copy(ctx, s); err != nil {
			return fmt.Errorf("copy the link: %w", err)
		}
	}
	return nil
}

// dbusNotifier sends notifications with actions over D-Bus, falling back
// to Fyne's when the call fails.
type dbusNotifier struct {
	d        *notify.DBus
	fallback app.Notifier
}

func (n dbusNotifier) Notify(note app.Note) error {
	actions := make([]notify.Action, len(note.Actions))
	for i, a := range note.Actions {
		actions[i] = notify.Action{Key: a.Key, Label: a.Label}
	}
	if _, err := n.d.Send(note.Title, note.Body, actions, note.OnAction); err != nil {
		slog.Info("D-Bus notification failed; using a plain one", "err", err)
		return n.fallback.Notify(note)
	}
	return nil
}
