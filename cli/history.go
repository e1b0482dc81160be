package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/zipline-tray/zipline-tray/uploader"
)

var historyCmd Command

func init() {
	historyCmd = Command{
		Name:    "history",
		Summary: "list recent uploads, or delete one (also on the server)",
		Usage: `Usage: zipline-tray history [--json] [-n N]
       zipline-tray history delete ID

Lists the latest uploads, newest first: ID, time, size, file and link.
"history delete ID" deletes the file on the server, then from the history.
`,
		Run: runHistory,
	}
}

func init() { register(historyCmd) }

func runHistory(ctx context.Context, env *Env, args []string) int {
	fs := newFlags("history")
	asJSON := fs.Bool("json", false, "print JSON")
	n := fs.Int("n", 20, "how many uploads to list (0: all)")
	pos, code, done := parseFlags(env, fs, historyCmd, args)
	if done {
		return code
	}
	if len(pos) > 0 && pos[0] == "delete" {
		if len(pos) != 2 {
			return usageError(env, historyCmd, "history delete takes one ID")
		}
		if _, err := strconv.ParseUint(pos[1], 10, 64); err != nil {
			return usageError(env, historyCmd, "%q is not a history ID", pos[1])
		}
		resp, code := control(ctx, env, historyCmd, uploader.Request{Op: uploader.OpHistoryDelete, ID: pos[1]})
		if resp == nil {
			return code
		}
		fmt.Fprintf(env.Stdout, "Deleted upload %s from the server and the history.\n", pos[1])
		return ExitOK
	}
	if len(pos) > 0 {
		return usageError(env, historyCmd, "unexpected argument %q", pos[0])
	}
	resp, code := control(ctx, env, historyCmd, uploader.Request{Op: uploader.OpHistory, Limit: *n})
	if resp == nil {
		return code
	}
	if *asJSON {
		h := resp.History
		if h == nil {
			h = []uploader.HistoryEntry{}
		}
		json.NewEncoder(env.Stdout).Encode(h)
		return ExitOK
	}
	if len(resp.History) == 0 {
		fmt.Fprintln(env.Stdout, "No uploads yet.")
		return ExitOK
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tSIZE\tFILE\tLINK")
	for _, h := range resp.History {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", h.ID, h.Time.Local().Format(time.DateTime), humanSize(h.Size), h.Name, h.URL)
	}
	tw.Flush()
	return ExitOK
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// HistoryRecorder records uploads made by "zipline-tray upload" in the
// shared history (through the running owner of the queue, if any), so
// "history" lists them and the queue does not upload the same content again.
// It satisfies Recorder and UploadRecorder: set Env.Recorder to
// HistoryRecorder{StateDir: paths.StateDir}.
type HistoryRecorder struct {
	StateDir string
}

// Record implements Recorder.
func (r HistoryRecorder) Record(path, url, fileID string, size int64) error {
	return r.RecordUpload(context.Background(), Uploaded{Path: path, URL: url, FileID: fileID, Size: size})
}

// RecordUpload implements UploadRecorder.
func (r HistoryRecorder) RecordUpload(ctx context.Context, u Uploaded) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	abs, err := filepath.Abs(u.Path)
	if err != nil {
		abs = u.Path
	}
	h := uploader.HistoryEntry{
		Name: filepath.Base(u.Path), Path: abs, URL: u.URL, FileID: u.FileID, Size: u.Size,
		Server: u.Server, Time: u.Time, Deletes: u.DeletesAt, User: u.User,
	}
	if u.Name != "" {
		h.RawURL = uploader.RawURL(u.URL, u.Name)
	}
	if u.Options.Password == "" && u.Server != "" {
		// With the content hash the queue can reuse this link (ReuseLinks)
		// instead of uploading the same file again.
		sum := u.SHA256
		if sum == "" {
			sum, err = fileSHA256(abs)
		}
		if err == nil {
			h.SHA256, h.Options = sum, uploader.OptionsKey(u.Options)
		}
	}
	return uploader.RecordUpload(ctx, r.StateDir, h)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
