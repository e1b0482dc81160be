package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/uploader"
	"github.com/zipline-tray/zipline-tray/zipline"
)

var watchCmd Command

func init() {
	watchCmd = Command{
		Name:    "watch",
		Summary: "watch folders and upload every new file (headless)",
		Usage: `Usage: zipline-tray watch [flags] [DIR...]

Watches the folders from the settings (or the DIRs given, for this run only;
with neither, the system's screenshot folder) and uploads every new file, copying each link to the clipboard. Files that
arrived while nothing ran (saved, moved or copied in) are uploaded first
(settings: watch.catchUp); a folder watched for the first time starts from
now, and files it already held are never uploaded.

Every file is recorded in the queue before anything else happens, so nothing
is lost: network errors and 5xx are retried with back-off, a rate limit is
waited out, and if the server rejects the token the watcher pauses until you
run "zipline-tray login" in another terminal, then resumes by itself.

Events go to stdout, one line each (with --json, one JSON object per line);
logs go to stderr. Ctrl-C stops after recording what is in flight.
`,
		Run: runWatch,
	}
}

func init() { register(watchCmd) }

func runWatch(ctx context.Context, env *Env, args []string) int {
	fs := newFlags("watch")
	asJSON := fs.Bool("json", false, "print one JSON object per event")
	noCopy := fs.Bool("no-copy", false, "do not copy links to the clipboard")
	format := fs.String("format", "", "link format: url, raw, markdown or html (default: settings)")
	noCatchUp := fs.Bool("no-catch-up", false, "do not upload files that arrived while nothing ran")
	verbose := fs.Bool("v", false, "log more")
	dirs, code, done := parseFlags(env, fs, watchCmd, args)
	if done {
		return code
	}
	paths, err := env.paths()
	if err != nil {
		env.errorf("zipline-tray: %v\n", err)
		return ExitFailure
	}
	cfg, err := env.config()
	if err != nil {
		env.errorf("zipline-tray: %v\n", err)
		return ExitFailure
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))

	var folders []uploader.WatchFolder
	if len(dirs) > 0 {
		for _, d := range dirs {
			abs, err := filepath.Abs(d)
			if err != nil {
				return usageError(env, watchCmd, "%s: %v", d, err)
			}
			folders = append(folders, uploader.WatchFolder{Path: abs})
		}
	} else {
		for _, f := range cfg.Watch.Folders {
			folders = append(folders, uploader.WatchFolder{Path: f.Path, Recursive: f.Recursive})
		}
	}
	if len(folders) == 0 {
		// Nothing configured: the system's screenshot folder (the first
		// suggestion; a missing folder is waited for).
		if d := uploader.DefaultFolders(); len(d) > 0 {
			folders = append(folders, uploader.WatchFolder{Path: d[0].Path, Recursive: d[0].Recursive})
			log.Info("no folders in the settings; watching the screenshot folder", "folder", d[0].Path, "from", d[0].Source)
		}
	}
	if len(folders) == 0 {
		env.errorf("zipline-tray watch: no folder to watch: give one (zipline-tray watch ~/Pictures/Screenshots)\nor add folders to watch.folders in %s\n", paths.ConfigFile())
		return ExitUsage
	}

	creds := newEngineCreds(env, cfg)
	if _, err := creds.Client(ctx); err != nil && !errors.Is(err, zipline.ErrUnauthorized) {
		env.errorf("zipline-tray: %s\n", explain(err))
		return ExitFailure
	} else if err != nil {
		// Not signed in: still watch, and queue; uploads start after login.
		env.errorf("zipline-tray: %s\nWatching anyway: files are queued and upload once you run\n  zipline-tray login\n", explain(err))
	}
	lf := cfg.Links.Format
	if *format != "" {
		lf = *format
	}
	e, err := uploader.Open(uploader.Config{
		StateDir:          paths.StateDir,
		Credentials:       creds,
		Options:           cfg.Upload.Options(),
		Concurrency:       cfg.Watch.Concurrency,
		ReuseLinks:        cfg.Watch.ReuseLinks,
		DeleteAfterUpload: cfg.Watch.DeleteAfterUpload,
		OneFilePerRequest: cfg.Watch.OneFilePerRequest,
		CopyLinks:         cfg.Links.Copy && !*noCopy,
		LinkFormat:        lf,
		Clipboard:         envClipboard{env},
		Logger:            log,
	})
	if errors.Is(err, uploader.ErrOwned) {
		env.errorf("zipline-tray watch: %s.\n", ownerMessage(ctx, paths.StateDir))
		return ExitFailure
	}
	if err != nil {
		env.errorf("zipline-tray watch: %v\n", err)
		return ExitFailure
	}
	defer e.Close()

	// Every event, also those still queued for a slow reader at Ctrl-C:
	// the channel ends after Close.
	events := e.SubscribeAll()
	var printed sync.WaitGroup
	printed.Add(1)
	go func() {
		defer printed.Done()
		printEvents(env, events, *asJSON)
	}()
	if q := e.Queue(); len(q) > 0 {
		log.Info("resuming the queue left by the last run", "files", len(q))
	}
	for _, f := range folders {
		log.Info("watching", "folder", f.Path)
	}
	err = e.Watch(ctx, uploader.AutoConfig{
		Folders: folders,
		Include: cfg.Watch.Include,
		CatchUp: cfg.Watch.CatchUp && !*noCatchUp,
		OneOff:  len(dirs) > 0,
	})
	closeErr := e.Close()
	printed.Wait()
	if err != nil {
		env.errorf("zipline-tray watch: %v\n", err)
		return ExitFailure
	}
	if closeErr != nil {
		env.errorf("zipline-tray watch: %v\n", closeErr)
		return ExitFailure
	}
	return ExitOK
}

// printEvents writes one line per event (progress is left out of text mode).
func printEvents(env *Env, events <-chan uploader.Event, asJSON bool) {
	enc := json.NewEncoder(env.Stdout)
	for ev := range events {
		if asJSON {
			if ev.Type != uploader.EventProgress {
				enc.Encode(ev)
			}
			continue
		}
		name := filepath.Base(ev.Path)
		switch ev.Type {
		case uploader.EventQueued:
			fmt.Fprintf(env.Stdout, "queued     %s (#%d)\n", name, ev.Item)
		case uploader.EventUploaded:
			note := ""
			if ev.Reused {
				note = " (same content as an earlier upload: link reused)"
			}
			fmt.Fprintf(env.Stdout, "uploaded   %s %s%s\n", name, ev.Link, note)
		case uploader.EventProcessing:
			fmt.Fprintf(env.Stdout, "processing %s (the server is assembling it)\n", name)
		case uploader.EventFailed:
			next := "will not retry: fix it, then run zipline-tray retry " + ev.Item.String()
			if ev.Retrying {
				next = "retrying at " + ev.NextAttempt.Format(time.TimeOnly)
			}
			fmt.Fprintf(env.Stdout, "failed     %s: %s (%s)\n", name, env.redact(ev.Reason), next)
		case uploader.EventSkipped:
			fmt.Fprintf(env.Stdout, "skipped    %s: %s\n", name, ev.Reason)
		case uploader.EventCancelled:
			fmt.Fprintf(env.Stdout, "cancelled  %s\n", name)
		case uploader.EventAuthRequired:
			fmt.Fprintf(env.Stdout, "paused     %s\n", ev.Reason)
			env.errorf("zipline-tray: the server rejected the saved token. Uploads are paused and nothing is lost.\n" +
				"Sign in again in another terminal:\n  zipline-tray login\nThis watcher resumes by itself.\n")
		case uploader.EventPaused:
			if !ev.Until.IsZero() {
				fmt.Fprintf(env.Stdout, "waiting    %s until %s\n", ev.Reason, ev.Until.Format(time.TimeOnly))
			}
		case uploader.EventResumed:
			fmt.Fprintf(env.Stdout, "resumed    %s\n", ev.Reason)
		}
	}
}

// ownerMessage says which process owns the queue, for "another instance" errors.
func ownerMessage(ctx context.Context, stateDir string) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	resp, err := uploader.Call(ctx, stateDir, uploader.Request{Op: uploader.OpStatus})
	if err != nil || resp == nil {
		return "another zipline-tray process is using the upload queue in " + stateDir + "; stop it first (or wait for it to finish)"
	}
	what := "another zipline-tray"
	if st := resp.Status; st != nil && len(st.Watching) > 0 {
		what += " (pid " + fmt.Sprint(resp.PID) + ") is already watching " + strings.Join(st.Watching, ", ")
	} else {
		what += " (pid " + fmt.Sprint(resp.PID) + ") owns the upload queue"
	}
	return what + `; see its queue with "zipline-tray queue", or stop it first`
}

// envClipboard copies with the CLI's clipboard tool.
type envClipboard struct{ env *Env }

func (c envClipboard) SetText(s string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.env.Clipboard(ctx, s)
}

// engineCreds gives the engine a client for the saved sign-in, read again
// after a reload (a login in another terminal).
type engineCreds struct {
	env *Env
	cfg *auth.Config

	mu     sync.Mutex
	client *zipline.Client
}

func newEngineCreds(env *Env, cfg *auth.Config) *engineCreds {
	return &engineCreds{env: env, cfg: cfg}
}

func (c *engineCreds) Client(ctx context.Context) (*zipline.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client, nil
	}
	cfg := c.cfg
	if p, err := c.env.paths(); err == nil {
		if fresh, err := auth.LoadConfig(p.ConfigFile()); err == nil {
			cfg = fresh // login may have changed server or account
		}
	}
	ov := auth.Overrides{Token: c.env.Getenv(auth.TokenEnv), Server: c.env.Getenv(auth.ServerEnv)}
	creds, err := auth.Resolve(ctx, ov, cfg, c.env.store())
	if err != nil {
		if errors.Is(err, auth.ErrNotSignedIn) {
			return nil, fmt.Errorf("%w: %v", zipline.ErrUnauthorized, err)
		}
		return nil, err
	}
	cl, err := auth.NewClient(creds, cfg)
	if err != nil {
		return nil, err
	}
	c.client = cl
	return cl, nil
}

// Reload forgets the client so the next upload reads the new sign-in.
func (c *engineCreds) Reload() {
	c.mu.Lock()
	c.client = nil
	c.mu.Unlock()
}
