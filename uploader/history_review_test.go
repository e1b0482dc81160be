package uploader

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// uploadOneForHistory uploads one file through an engine and returns its history entry.
func uploadOneForHistory(t *testing.T, f *fixture, e *Engine, name string) HistoryEntry {
	t.Helper()
	r := recordEvents(t, e)
	p, _ := f.write(t, name, 200)
	if _, _, err := e.Add(p, AddOptions{Source: SourceUser, Force: true}); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 10*time.Second, "upload of "+name, func(evs []Event) bool { return uploadedPaths(evs)[p] == 1 })
	var h []HistoryEntry
	testutil.WaitFor(t, 5*time.Second, "the history entry of "+name, func() bool {
		var err error
		h, err = e.History(0)
		return err == nil && len(h) > 0 && h[0].Path == p
	})
	if h[0].FileID == "" {
		t.Fatalf("history entry has no file id: %+v", h[0])
	}
	return h[0]
}

// signInAsAnother signs the fixture's credentials in as a new user of the
// same server: the user's other account.
func (f *fixture) signInAsAnother(t *testing.T, name string) {
	t.Helper()
	f.srv.AddUser(name, "password-"+name, ziplinetest.RoleUser)
	tok, err := f.srv.IssueToken(name)
	if err != nil {
		t.Fatal(err)
	}
	f.creds.setToken(tok)
}

func fileOnServer(f *fixture, fileID string) bool {
	for _, file := range f.srv.Files() {
		if file.ID == fileID {
			return true
		}
	}
	return false
}

// Zipline answers 404 for a file of another user. Someone signed in to a
// second account on the same server who runs "history delete" must not be
// told the file was deleted (and lose its only local record) while it is
// still public on the server.
func TestHistoryDeleteOtherAccountKeepsEntry(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	h := uploadOneForHistory(t, f, e, "alice.png")

	// The user signs in to their other account on the same server.
	f.signInAsAnother(t, "bob")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := e.DeleteHistory(ctx, h.ID)
	still := fileOnServer(f, h.FileID)
	hist, _ := e.History(0)
	if err == nil && still {
		t.Errorf("DeleteHistory(%d) returned nil (the CLI prints \"Deleted upload %d from the server and the history\"), "+
			"but file %s (%s) is still on the server: the server's 404 meant \"not this account's file\", not \"already gone\"; "+
			"history now has %d entries, so the only local record of the public link is lost",
			h.ID, h.ID, h.FileID, h.URL, len(hist))
	}
}

// "history delete" with nothing running serves the request on the queue
// itself. It must not keep the queue locked while it waits on the server:
// a "zipline-tray watch" (or the desktop app) started meanwhile fails with
// "another zipline-tray process is using the upload queue".
func TestOfflineHistoryDeleteDoesNotBlockWatchStart(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.NoIPC = true
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := uploadOneForHistory(t, f, e, "slow.png")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// The server is slow to answer the delete (a busy or far server).
	f.srv.SetDelay("/api/user/files/", 5*time.Second)
	creds := &review4SignalCreds{testCreds: f.creds, asked: make(chan struct{})}
	delDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_, err := Do(ctx, f.state, creds, Request{Op: OpHistoryDelete, ID: ItemID(h.ID).String()})
		delDone <- err
	}()
	select {
	case <-creds.asked:
	case <-time.After(5 * time.Second):
		t.Fatal("history delete never asked for credentials")
	}

	// Meanwhile the user starts the watcher.
	w, err := Open(f.config())
	if err == nil {
		w.Close()
	}
	f.srv.SetDelay("/api/user/files/", 0)
	if derr := <-delDone; derr != nil {
		t.Logf("history delete: %v", derr)
	}
	if errors.Is(err, ErrOwned) {
		t.Fatalf("starting the watcher while an offline `history delete` waits on the server: %v "+
			"(doOffline holds the queue's lock across the network call)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// review4SignalCreds closes asked when a client is first asked for: the
// request is about to go to the server.
type review4SignalCreds struct {
	*testCreds
	once  sync.Once
	asked chan struct{}
}

func (c *review4SignalCreds) Client(ctx context.Context) (*zipline.Client, error) {
	c.once.Do(func() { close(c.asked) })
	return c.testCreds.Client(ctx)
}
