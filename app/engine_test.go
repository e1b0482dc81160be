package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/uploader"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// TestUploaderEngineEndToEnd drives the real upload engine against the
// fake server through the adapter: a dropped file is uploaded, its link
// lands on the clipboard and in the history, and deleting it removes it
// from the server.
func TestUploaderEngineEndToEnd(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	t.Cleanup(srv.Close)
	srv.AddUser("alice", "pw", ziplinetest.RoleUser)
	acct, _, _ := realAccount(t)
	if _, err := acct.SignInToken(t.Context(), srv.URL, srv.User("alice").Token(), false); err != nil {
		t.Fatal(err)
	}
	clip := &memClip{}
	eng, err := uploader.Open(uploader.Config{StateDir: t.TempDir(), Credentials: acct, NoIPC: true, CopyLinks: true, Clipboard: clip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	adapter := &UploaderEngine{E: eng}

	h := newHarness(t, acct, func(o *Options) { o.Engine = adapter })
	h.ui.settings.Notify.OnSuccess = true
	h.ui.settings.Links.Copy = true
	file := filepath.Join(t.TempDir(), "shot.png")
	if err := os.WriteFile(file, tinyPNG(), 0o600); err != nil {
		t.Fatal(err)
	}
	h.ui.drop.dropped(fileURIs(file))

	var row *dropItem
	h.loop.until(t, "link in the drop zone", func() bool {
		for _, it := range h.ui.drop.items {
			row = it
		}
		return row != nil && row.url != ""
	})
	if !strings.HasPrefix(row.url, srv.URL+"/u/") {
		t.Errorf("link = %q", row.url)
	}
	h.loop.until(t, "clipboard", func() bool { return clip.get() == row.url })
	h.loop.until(t, "notification", func() bool {
		n := h.notes.all()
		return len(n) == 1 && n[0].Title == NoteLinkCopied
	})

	hist := adapter.History()
	if len(hist) != 1 || hist[0].URL != row.url || hist[0].Path != file {
		t.Fatalf("history = %+v", hist)
	}
	if len(srv.Files()) != 1 {
		t.Fatalf("server has %d files", len(srv.Files()))
	}
	// "Delete" from the notification: by queue item id.
	h.notes.all()[0].OnAction("delete")
	h.loop.until(t, "deleted on the server", func() bool { return len(srv.Files()) == 0 })
	if len(adapter.History()) != 0 {
		t.Error("history entry kept after delete")
	}

	// Pause stops the watcher; the adapter reports it.
	adapter.Pause()
	if !adapter.Paused() {
		t.Error("not paused")
	}
	adapter.Resume()
}

// TestUploaderEngineWatch watches a folder through the adapter.
func TestUploaderEngineWatch(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	t.Cleanup(srv.Close)
	srv.AddUser("alice", "pw", ziplinetest.RoleUser)
	acct, _, _ := realAccount(t)
	if _, err := acct.SignInToken(t.Context(), srv.URL, srv.User("alice").Token(), false); err != nil {
		t.Fatal(err)
	}
	eng, err := uploader.Open(uploader.Config{StateDir: t.TempDir(), Credentials: acct, NoIPC: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	adapter := &UploaderEngine{E: eng}
	t.Cleanup(adapter.StopWatching)
	dir := t.TempDir()
	cfg := auth.Defaults()
	cfg.Watch.Folders = []auth.WatchFolder{{Path: dir}}
	adapter.Watch(cfg)

	h := newHarness(t, acct, func(o *Options) { o.Engine = adapter })
	h.loop.until(t, "watching", func() bool {
		st := adapter.Watching()
		return len(st) == 1 && st[0].OK && st[0].Text == "Watching"
	})
	os.WriteFile(filepath.Join(dir, "new.png"), tinyPNG(), 0o600)
	h.loop.until(t, "uploaded from the folder", func() bool { return len(srv.Files()) == 1 })

	adapter.Pause()
	h.loop.until(t, "paused status", func() bool {
		st := adapter.Watching()
		return len(st) == 1 && !st[0].OK && st[0].Text == "Paused"
	})
	h.loop.until(t, "tray shows paused", func() bool { return findItem(h.ui.TrayMenu(), MenuResume) != nil })
}
