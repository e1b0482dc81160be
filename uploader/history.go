package uploader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// History returns the latest finished uploads, newest first (limit <= 0: all).
func (e *Engine) History(limit int) ([]HistoryEntry, error) {
	h, err := e.st.history(limit)
	if err != nil {
		return nil, fmt.Errorf("read upload history: %w", err)
	}
	return h, nil
}

// DeleteHistory deletes an upload on the server, then its history entry
// (and the record that would reuse its link). A file already gone from the
// server is not an error.
func (e *Engine) DeleteHistory(ctx context.Context, id uint64) error {
	h, ok, err := e.st.historyEntry(id)
	if err != nil {
		return fmt.Errorf("read upload history: %w", err)
	}
	if !ok {
		return fmt.Errorf("no upload %d in the history", id)
	}
	if err := deleteOnServer(ctx, e.cfg.Credentials, h); err != nil {
		return err
	}
	if err := e.st.deleteHistory(h); err != nil {
		return fmt.Errorf("delete %s from the history: %w", h.Name, err)
	}
	return nil
}

// deleteOnServer deletes a history entry's file on the server. A file
// already gone is not an error; another account's file is.
func deleteOnServer(ctx context.Context, creds Credentials, h HistoryEntry) error {
	if h.FileID == "" {
		return nil
	}
	c, err := creds.Client(ctx)
	if err != nil {
		return fmt.Errorf("delete %s on the server: %w", h.Name, err)
	}
	if h.Server != "" && strings.TrimRight(h.Server, "/") != strings.TrimRight(c.Server(), "/") {
		return fmt.Errorf("delete %s: it was uploaded to %s, but you are signed in to %s", h.Name, h.Server, c.Server())
	}
	// Zipline says 404 both for a file already gone and for another
	// account's: the entry, the only local record of a live link, must
	// not go for the second. (Entries from before User was kept, and from
	// an account that could not be asked, take the 404 as gone.)
	if h.User != "" {
		me, err := c.UserID(ctx)
		if err != nil {
			return fmt.Errorf("delete %s: cannot tell which account is signed in: %w", h.Name, err)
		}
		if me != h.User {
			return fmt.Errorf("delete %s: another account on %s uploaded it; sign in with that account to delete it", h.Name, c.Server())
		}
	}
	if _, err := c.DeleteFile(ctx, h.FileID); err != nil && !errors.Is(err, zipline.ErrNotFound) {
		return fmt.Errorf("delete %s on the server: %w", h.Name, err)
	}
	return nil
}

// Record adds an upload made outside the queue (the `upload` command) to the
// history, and to the records that prevent uploading the same content twice.
// Set Options to OptionsKey's result for the options used, or leave it empty.
func (e *Engine) Record(h HistoryEntry) error {
	if h.URL == "" {
		return errors.New("record upload: no URL")
	}
	h.ID = 0
	if h.Time.IsZero() {
		h.Time = time.Now()
	}
	if h.RawURL == "" {
		h.RawURL = RawURL(h.URL, "")
	}
	var key string
	var rec *record
	if h.SHA256 != "" && h.Server != "" && h.FileID != "" && h.Options != "" {
		key = h.Server + "|" + h.SHA256 + "|" + h.Options
		rec = &record{URL: h.URL, RawURL: h.RawURL, FileID: h.FileID, DeletesAt: h.Deletes, Time: h.Time, Path: h.Path}
	}
	if err := e.st.addHistory(&h, key, rec); err != nil {
		return fmt.Errorf("record upload %s: %w", h.Name, err)
	}
	return nil
}

// OptionsKey is the part of an upload record key that stands for the upload
// options, for HistoryEntry.Options.
func OptionsKey(o zipline.UploadOptions) string {
	opts, _ := json.Marshal(o)
	h := sha256.Sum256(opts)
	return hex.EncodeToString(h[:8])
}

// RecordUpload adds an upload made by this process (the `upload` command) to
// the shared history: directly when no one owns the queue, else through the
// owner. It never waits long for a lock.
func RecordUpload(ctx context.Context, stateDir string, h HistoryEntry) error {
	_, err := Do(ctx, stateDir, nil, Request{Op: OpRecord, Entry: &h})
	return err
}

// Do runs a control request: through the process that owns the queue, or,
// when none runs, on the queue directly (without uploading anything). creds
// is needed only for requests that talk to the server (history-delete); it
// may be nil otherwise. It gives up with a clear error at ctx's deadline
// (default 3 s) instead of waiting on a lock.
func Do(ctx context.Context, stateDir string, creds Credentials, req Request) (*Response, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
	}
	for {
		resp, err := Call(ctx, stateDir, req)
		if !errors.Is(err, ErrNotRunning) {
			return resp, err
		}
		resp, err = doOffline(ctx, stateDir, creds, req)
		if !errors.Is(err, ErrOwned) {
			return resp, err
		}
		// Held by a short-lived command (or an owner still starting): try again.
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w and did not answer; try again in a moment", ErrOwned)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// doOffline serves a request on the store itself while no engine runs.
func doOffline(ctx context.Context, stateDir string, creds Credentials, req Request) (*Response, error) {
	switch req.Op {
	case OpReloadCredentials, OpShow, OpPing, OpStatus:
		return nil, ErrNotRunning
	}
	if creds == nil {
		creds = noCredentials{}
	}
	if req.Op == OpHistoryDelete {
		return deleteHistoryOffline(ctx, stateDir, creds, req)
	}
	st, err := openStore(stateDir, 50*time.Millisecond)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg: Config{StateDir: stateDir, Credentials: creds, Concurrency: 1}, st: st,
		log: slog.New(slog.DiscardHandler), ctx: ctx, items: map[ItemID]*Item{},
		running: map[ItemID]context.CancelCauseFunc{}, wake: make(chan struct{}, 1),
		offline: true,
	}
	defer st.close()
	pending, err := st.loadPending(time.Now(), 7*24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("read upload queue: %w", err)
	}
	for _, it := range pending {
		if !it.State.Terminal() {
			e.items[it.ID] = it
		}
	}
	if req.Op == OpAdd {
		return nil, errors.New("no zipline-tray is running to upload these; use `zipline-tray upload` or start `zipline-tray watch`")
	}
	resp := e.handle(req)
	if !resp.OK {
		return &resp, resp.err()
	}
	return &resp, nil
}

// deleteHistoryOffline deletes a history entry while no engine runs. The
// queue is not held while the server is asked (up to 25 s): an app or
// `watch` starting meanwhile must find it free. If one took it, the entry
// goes through it (it asks the server again: the file is gone by then).
func deleteHistoryOffline(ctx context.Context, stateDir string, creds Credentials, req Request) (*Response, error) {
	id, err := ParseItemID(req.ID)
	if err != nil {
		return nil, fmt.Errorf("history delete: %q is not a history id", req.ID)
	}
	st, err := openStore(stateDir, 50*time.Millisecond)
	if err != nil {
		return nil, err
	}
	h, ok, err := st.historyEntry(uint64(id))
	st.close()
	if err != nil {
		return nil, fmt.Errorf("read upload history: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("no upload %d in the history", id)
	}
	sctx, cancel := context.WithTimeout(ctx, 25*time.Second)
	err = deleteOnServer(sctx, creds, h)
	cancel()
	if err != nil {
		return nil, err
	}
	for {
		st, err := openStore(stateDir, 50*time.Millisecond)
		if err == nil {
			err = st.deleteHistory(h)
			st.close()
			if err != nil {
				return nil, fmt.Errorf("delete %s from the history: %w", h.Name, err)
			}
			return &Response{OK: true}, nil
		}
		if !errors.Is(err, ErrOwned) {
			return nil, err
		}
		resp, err := Call(ctx, stateDir, req)
		if !errors.Is(err, ErrNotRunning) {
			return resp, err
		}
		select { // held by a short-lived command: try again
		case <-ctx.Done():
			return nil, fmt.Errorf("%s was deleted on the server, but its history entry could not be removed: %w", h.Name, ErrOwned)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type noCredentials struct{}

func (noCredentials) Client(context.Context) (*zipline.Client, error) {
	return nil, fmt.Errorf("not signed in: %w", zipline.ErrUnauthorized)
}
