package uploader

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// SocketFile is the control socket of the process that owns the queue.
const SocketFile = "control.sock"

// ErrNotRunning means no zipline-tray process answers on the control socket.
var ErrNotRunning = errors.New("no running zipline-tray owns the upload queue")

// Request ops understood by the owner of the queue.
const (
	OpPing              = "ping"
	OpQueue             = "queue"   // pending and failed items
	OpAdd               = "add"     // Paths: queue these files (forced)
	OpRetry             = "retry"   // ID, or All
	OpCancel            = "cancel"  // ID
	OpHistory           = "history" // Limit
	OpHistoryDelete     = "history-delete"
	OpRecord            = "record" // Entry: add an upload made elsewhere to the history
	OpReloadCredentials = "reload-credentials"
	OpShow              = "show" // raise the GUI window
	OpOpen              = "open" // Paths: uploader configs (.sxcu…) for the GUI to import
	OpStatus            = "status"
)

// Request is one JSON line sent to the owner.
type Request struct {
	Op    string        `json:"op"`
	ID    string        `json:"id,omitempty"`
	All   bool          `json:"all,omitempty"`
	Paths []string      `json:"paths,omitempty"`
	Limit int           `json:"limit,omitempty"`
	Entry *HistoryEntry `json:"entry,omitempty"`
}

// Response is the owner's one JSON line answer. Error is set when the
// request failed; it is written for people.
type Response struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// SignIn is set with Error when the server rejected the credentials,
	// so the asking process can say "sign in again" (and exit with 3).
	SignIn  bool           `json:"sign_in,omitempty"`
	PID     int            `json:"pid,omitempty"`
	Items   []Item         `json:"items,omitempty"`
	History []HistoryEntry `json:"history,omitempty"`
	Count   int            `json:"count,omitempty"`
	Status  *Status        `json:"status,omitempty"`
}

// Status is a summary of the engine.
type Status struct {
	Paused   bool            `json:"paused"` // waiting for sign-in
	Gate     time.Time       `json:"rate_limited_until,omitzero"`
	Pending  int             `json:"pending"`
	Failed   int             `json:"failed"`
	Running  int             `json:"running"`
	Watching []string        `json:"watching,omitempty"`
	Folders  []FolderSummary `json:"folders,omitempty"`
}

// FolderSummary is one watched folder as the status shows it.
type FolderSummary struct {
	Path  string `json:"path"`
	State string `json:"state,omitempty"`
	Error string `json:"error,omitempty"`
}

// Call sends one request to the process that owns the queue in stateDir and
// returns its answer. ErrNotRunning when nobody listens. The context bounds
// the whole exchange.
func Call(ctx context.Context, stateDir string, req Request) (*Response, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	path := socketPath(stateDir)
	if err := checkSocketOwner(path); err != nil {
		return nil, fmt.Errorf("reach the running zipline-tray: %w", err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, ErrNotRunning
		}
		return nil, fmt.Errorf("reach the running zipline-tray: %w", err)
	}
	defer conn.Close()
	// Whoever listens must be this user too: between the owner check and
	// the dial, another could have put a socket in the shared temp folder.
	if uid, ok := peerUID(conn); ok && uid != os.Getuid() {
		return nil, fmt.Errorf("reach the running zipline-tray: %s is served by another user; remove it, or ask who made it", path)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, fmt.Errorf("reach the running zipline-tray: %w", err)
	}
	var resp Response
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the running zipline-tray did not answer in time: %w", ctx.Err())
		}
		return nil, fmt.Errorf("read the running zipline-tray's answer: %w", err)
	}
	if !resp.OK {
		return &resp, resp.err()
	}
	return &resp, nil
}

// remoteError is a failure reported by the owner, with its kind kept.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

// err is the failure a Response reports, matching zipline.ErrUnauthorized
// with errors.Is when the server rejected the credentials.
func (r *Response) err() error {
	if r.SignIn {
		return &remoteError{r.Error, zipline.ErrUnauthorized}
	}
	return errors.New(r.Error)
}

// Notify sends a request that needs no answer beyond OK, e.g.
// Notify(stateDir, OpReloadCredentials) after a sign-in. It returns
// ErrNotRunning when no process owns the queue (nothing to tell).
func Notify(stateDir, op string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := Call(ctx, stateDir, Request{Op: op})
	return err
}

// socketPath is StateDir/control.sock, or, when that is longer than a unix
// socket path may be (104 bytes on macOS), a name in the temp folder derived
// from the state folder.
func socketPath(stateDir string) string {
	p := filepath.Join(stateDir, SocketFile)
	if len(p) < 100 {
		return p
	}
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		abs = stateDir
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(os.TempDir(), fmt.Sprintf("zipline-tray-%d-%x.sock", os.Getuid(), sum[:8]))
}

type ipcServer struct {
	ln   net.Listener
	path string
	wg   sync.WaitGroup
}

// listenIPC serves the control socket. Only the owner of the store's lock
// gets here, so an existing socket file is stale and is replaced.
func listenIPC(stateDir string, e *Engine) (*ipcServer, error) {
	path := socketPath(stateDir)
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	_ = os.Chmod(path, 0o600)
	s := &ipcServer{ln: ln, path: path}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			// Only this user (or root): the socket is 0600 only once
			// chmod ran after listen, and a temp-folder one is shared.
			if uid, ok := peerUID(conn); ok && uid != os.Getuid() && uid != 0 {
				conn.Close()
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(30 * time.Second))
				var req Request
				if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&req); err != nil {
					return
				}
				resp := e.handle(req)
				resp.PID = os.Getpid()
				_ = json.NewEncoder(conn).Encode(resp)
			}()
		}
	}()
	return s, nil
}

func (s *ipcServer) close() {
	s.ln.Close()
	s.wg.Wait()
	_ = os.Remove(s.path)
}

func errResp(err error) Response {
	return Response{Error: err.Error(), SignIn: errors.Is(err, zipline.ErrUnauthorized)}
}

// handle answers one control request.
func (e *Engine) handle(req Request) Response {
	ok := Response{OK: true}
	switch req.Op {
	case OpPing:
		return ok
	case OpStatus:
		st := e.Status()
		ok.Status = &st
		return ok
	case OpQueue:
		ok.Items = e.Queue()
		return ok
	case OpAdd:
		for _, p := range req.Paths {
			it, _, err := e.Add(p, AddOptions{Source: SourceUser, Force: true})
			if err != nil {
				return errResp(err)
			}
			ok.Items = append(ok.Items, it)
		}
		return ok
	case OpRetry:
		if req.All {
			ok.Count = e.RetryAll()
			return ok
		}
		id, err := ParseItemID(req.ID)
		if err != nil {
			return errResp(fmt.Errorf("retry: %q is not a queue item id", req.ID))
		}
		if err := e.Retry(id); err != nil {
			return errResp(err)
		}
		ok.Count = 1
		return ok
	case OpCancel:
		id, err := ParseItemID(req.ID)
		if err != nil {
			return errResp(fmt.Errorf("cancel: %q is not a queue item id", req.ID))
		}
		if err := e.Cancel(id); err != nil {
			return errResp(err)
		}
		return ok
	case OpHistory:
		h, err := e.History(req.Limit)
		if err != nil {
			return errResp(err)
		}
		ok.History = h
		return ok
	case OpHistoryDelete:
		id, err := ParseItemID(req.ID)
		if err != nil {
			return errResp(fmt.Errorf("history delete: %q is not a history id", req.ID))
		}
		ctx, cancel := context.WithTimeout(e.ctx, 25*time.Second)
		defer cancel()
		if err := e.DeleteHistory(ctx, uint64(id)); err != nil {
			return errResp(err)
		}
		return ok
	case OpRecord:
		if req.Entry == nil {
			return errResp(errors.New("record: no entry"))
		}
		if err := e.Record(*req.Entry); err != nil {
			return errResp(err)
		}
		return ok
	case OpReloadCredentials:
		e.CredentialsChanged()
		return ok
	case OpShow:
		if e.cfg.OnShow == nil {
			return errResp(errors.New("the running zipline-tray is the command-line watcher; it has no window"))
		}
		if err := e.cfg.OnShow(); err != nil {
			return errResp(err)
		}
		return ok
	case OpOpen:
		if e.cfg.OnOpen == nil {
			return errResp(errors.New("the running zipline-tray is the command-line watcher; it cannot import uploader configurations: " +
				"use `zipline-tray import FILE`, then it picks up the new sign-in by itself"))
		}
		if len(req.Paths) == 0 {
			return errResp(errors.New("open: no files given"))
		}
		if err := e.cfg.OnOpen(req.Paths); err != nil {
			return errResp(err)
		}
		return ok
	}
	return errResp(fmt.Errorf("unknown request %q (is the running zipline-tray an older version?)", req.Op))
}

// Status summarises the engine.
func (e *Engine) Status() Status {
	e.mu.Lock()
	// Finished uploads whose links are being recorded are still running
	// for whoever asks: their links have not been announced.
	s := Status{Paused: e.paused, Running: len(e.running) + e.finishing}
	if time.Now().Before(e.gate) {
		s.Gate = e.gate
	}
	for _, it := range e.items {
		if it.pending() {
			s.Pending++
		} else if it.State == StateFailed {
			s.Failed++
		}
	}
	e.mu.Unlock()
	s.Folders = e.watch.summary()
	for _, f := range s.Folders {
		s.Watching = append(s.Watching, f.Path)
	}
	return s
}
