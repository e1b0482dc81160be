package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/zipline-tray/zipline-tray/uploader"
)

var queueCmd Command

func init() {
	queueCmd = Command{
		Name:    "queue",
		Summary: "list files waiting to upload, and failed ones with the reason",
		Usage: `Usage: zipline-tray queue [--json]

Lists the upload queue: files waiting, uploading, and failed (with the
server's reason and whether they will be retried). Works whether or not a
"zipline-tray watch" or the desktop app is running.
`,
		Run: runQueue,
	}
}

var retryCmd Command

func init() {
	retryCmd = Command{
		Name:    "retry",
		Summary: "retry a failed upload now (or --all)",
		Usage: `Usage: zipline-tray retry ID
       zipline-tray retry --all

Puts failed (or cancelled) uploads back in the queue and resets their
back-off. IDs are the numbers "zipline-tray queue" shows.
`,
		Run: runRetry,
	}
}

var cancelCmd Command

func init() {
	cancelCmd = Command{
		Name:    "cancel",
		Summary: "cancel a queued or running upload",
		Usage: `Usage: zipline-tray cancel ID

Cancels a queued or running upload. The local file is not touched.
`,
		Run: runCancel,
	}
}

func init() {
	register(queueCmd)
	register(retryCmd)
	register(cancelCmd)
}

// control runs a request against the queue: through the running owner, or
// on the queue directly when nothing runs. It never waits long.
func control(ctx context.Context, env *Env, c Command, req uploader.Request) (*uploader.Response, int) {
	paths, err := env.paths()
	if err != nil {
		env.errorf("zipline-tray: %v\n", err)
		return nil, ExitFailure
	}
	var creds uploader.Credentials
	if req.Op == uploader.OpHistoryDelete {
		cfg, err := env.config()
		if err != nil {
			env.errorf("zipline-tray: %v\n", err)
			return nil, ExitFailure
		}
		creds = newEngineCreds(env, cfg)
	}
	wait := 3 * time.Second
	if req.Op == uploader.OpHistoryDelete {
		wait = 30 * time.Second // it asks the server
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	resp, err := uploader.Do(ctx, paths.StateDir, creds, req)
	if err != nil {
		if errors.Is(err, uploader.ErrOwned) {
			env.errorf("zipline-tray %s: %s\n", c.Name, ownerMessage(context.Background(), paths.StateDir))
			return nil, ExitFailure
		}
		return nil, env.failure(err, c.Name)
	}
	return resp, ExitOK
}

func runQueue(ctx context.Context, env *Env, args []string) int {
	fs := newFlags("queue")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code, done := parseFlags(env, fs, queueCmd, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(env, queueCmd, "unexpected argument %q", pos[0])
	}
	resp, code := control(ctx, env, queueCmd, uploader.Request{Op: uploader.OpQueue})
	if resp == nil {
		return code
	}
	if *asJSON {
		items := resp.Items
		if items == nil {
			items = []uploader.Item{}
		}
		json.NewEncoder(env.Stdout).Encode(items)
		return ExitOK
	}
	if len(resp.Items) == 0 {
		fmt.Fprintln(env.Stdout, "The upload queue is empty.")
		return ExitOK
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tFILE\tDETAILS")
	failed := 0
	for _, it := range resp.Items {
		details := ""
		switch {
		case it.State == uploader.StateFailed && it.Retrying:
			details = env.redact(it.Reason) + "; next try " + it.NextAttempt.Format(time.TimeOnly)
		case it.State == uploader.StateFailed:
			failed++
			details = env.redact(it.Reason) + "; will not retry by itself"
		case it.Reason != "":
			details = it.Reason
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", it.ID, it.State, filepath.Base(it.Path), details)
	}
	tw.Flush()
	if failed > 0 {
		fmt.Fprintln(env.Stdout, "\nRetry failed uploads with: zipline-tray retry ID (or --all)")
	}
	return ExitOK
}

func runRetry(ctx context.Context, env *Env, args []string) int {
	fs := newFlags("retry")
	all := fs.Bool("all", false, "retry every failed upload")
	pos, code, done := parseFlags(env, fs, retryCmd, args)
	if done {
		return code
	}
	if *all == (len(pos) == 1) || len(pos) > 1 {
		return usageError(env, retryCmd, "give one queue ID, or --all")
	}
	req := uploader.Request{Op: uploader.OpRetry, All: *all}
	if !*all {
		req.ID = pos[0]
	}
	resp, code := control(ctx, env, retryCmd, req)
	if resp == nil {
		return code
	}
	if *all {
		fmt.Fprintf(env.Stdout, "%d upload(s) back in the queue.\n", resp.Count)
	} else {
		fmt.Fprintf(env.Stdout, "Upload %s is back in the queue.\n", req.ID)
	}
	if resp.PID == 0 {
		fmt.Fprintln(env.Stdout, `Nothing is running to upload it: start "zipline-tray watch" or the desktop app.`)
	}
	return ExitOK
}

func runCancel(ctx context.Context, env *Env, args []string) int {
	fs := newFlags("cancel")
	pos, code, done := parseFlags(env, fs, cancelCmd, args)
	if done {
		return code
	}
	if len(pos) != 1 {
		return usageError(env, cancelCmd, "give one queue ID (see zipline-tray queue)")
	}
	resp, code := control(ctx, env, cancelCmd, uploader.Request{Op: uploader.OpCancel, ID: pos[0]})
	if resp == nil {
		return code
	}
	fmt.Fprintf(env.Stdout, "Cancelled upload %s. The local file is untouched.\n", pos[0])
	return ExitOK
}
