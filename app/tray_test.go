package app

import (
	"slices"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
)

func TestTrayMenuFollowsEngineEvents(t *testing.T) {
	acct := &fakeAccount{server: "https://z.example.com", user: "alice"}
	h := newHarness(t, acct)
	ui := h.ui
	h.loop.until(t, "token check", func() bool { return !ui.checking })

	m := ui.TrayMenu()
	if got := m.Items[0].Label; got != "Signed in as alice on z.example.com" {
		t.Fatalf("status line = %q", got)
	}
	if !m.Items[0].Disabled {
		t.Error("status line should not be clickable")
	}
	want := []string{"Signed in as alice on z.example.com", "-", MenuUploadFiles, MenuUploadClipboard, MenuDropZone,
		MenuRecent, "-", MenuPause, MenuQueue, MenuSettings, "-", MenuSignOut, MenuAbout, MenuQuit}
	if got := menuLabels(m); !slices.Equal(got, want) {
		t.Fatalf("menu = %q\nwant  %q", got, want)
	}
	if ui.State() != TrayIdle {
		t.Errorf("state = %v, want idle", ui.State())
	}
	if recent := findItem(m, MenuRecent).ChildMenu.Items; len(recent) != 1 || recent[0].Label != MenuNoRecent {
		t.Errorf("recent = %v, want the empty marker", menuLabels(findItem(m, MenuRecent).ChildMenu))
	}

	// Two files start uploading.
	h.engine.events <- Event{Kind: Queued, Job: "a", Path: "/tmp/a.png"}
	h.engine.events <- Event{Kind: Progress, Job: "a", Path: "/tmp/a.png", Sent: 5, Total: 10}
	h.engine.events <- Event{Kind: Queued, Job: "b", Path: "/tmp/b.png"}
	h.loop.until(t, "uploading status", func() bool {
		return ui.TrayMenu().Items[0].Label == "2 uploads in progress · Signed in as alice on z.example.com"
	})
	if ui.State() != TrayUploading || ui.trayIcon != trayIcons[TrayUploading] {
		t.Errorf("state = %v, want uploading icon", ui.State())
	}

	// One finishes: it becomes a recent upload whose entry copies its link.
	h.engine.events <- Event{Kind: Uploaded, Job: "a", Path: "/tmp/a.png", URL: "https://z.example.com/u/a.png"}
	h.engine.events <- Event{Kind: Cancelled, Job: "b", Path: "/tmp/b.png"}
	h.loop.until(t, "recent upload in menu", func() bool {
		r := findItem(ui.TrayMenu(), MenuRecent).ChildMenu.Items
		return len(r) == 1 && r[0].Label == "a.png"
	})
	findItem(ui.TrayMenu(), MenuRecent).ChildMenu.Items[0].Action()
	if got := h.app.Clipboard().Content(); got != "https://z.example.com/u/a.png" {
		t.Errorf("clipboard = %q after choosing the recent upload", got)
	}
	h.loop.until(t, "idle after the burst", func() bool { return ui.State() == TrayIdle })

	// Pause from the menu: the engine is told, the entry flips.
	findItem(ui.TrayMenu(), MenuPause).Action()
	h.loop.until(t, "resume entry", func() bool { return findItem(ui.TrayMenu(), MenuResume) != nil })
	h.loop.until(t, "engine paused", h.engine.Paused)
	if ui.State() != TrayPaused {
		t.Errorf("state = %v, want paused", ui.State())
	}

	// A 401: the first entry becomes "Sign in again…" and opens sign-in.
	h.engine.events <- Event{Kind: AuthRequired}
	h.loop.until(t, "sign in again", func() bool { return ui.TrayMenu().Items[0].Label == MenuSignInAgain })
	first := ui.TrayMenu().Items[0]
	if first.Disabled || first.Action == nil {
		t.Fatal("Sign in again… is not clickable")
	}
	if ui.State() != TraySignIn {
		t.Errorf("state = %v, want needs-sign-in", ui.State())
	}
	if findItem(ui.TrayMenu(), MenuSignIn) == nil {
		t.Error("no Sign in… entry after a 401")
	}
	first.Action()
	if ui.signIn == nil {
		t.Fatal("Sign in again… did not open the sign-in window")
	}
	// One notification with a Sign in action.
	h.loop.until(t, "401 notification", func() bool {
		for _, n := range h.notes.all() {
			if n.Title == NoteTokenRejected {
				return len(n.Actions) == 1 && n.Actions[0].Key == "default"
			}
		}
		return false
	})
	if !ui.drop.banner.Visible() {
		t.Error("the drop zone shows no sign-in banner after a 401")
	}
}

func TestStartWithoutCredentialsOpensSignIn(t *testing.T) {
	h := newHarness(t, &fakeAccount{})
	if h.ui.signIn == nil {
		t.Fatal("no sign-in window on a first run")
	}
	if got := h.ui.TrayMenu().Items[0].Label; got != MenuNotSignedIn {
		t.Errorf("status = %q", got)
	}
	if h.ui.State() != TraySignIn {
		t.Errorf("state = %v", h.ui.State())
	}
}

func TestRejectedTokenAtStart(t *testing.T) {
	acct := &fakeAccount{server: "https://z.example.com", user: "alice", checkErr: zipline.ErrUnauthorized}
	h := newHarness(t, acct)
	h.loop.until(t, "sign in again", func() bool { return h.ui.TrayMenu().Items[0].Label == MenuSignInAgain })
}

func TestSignedOutUploadsWaitQuietly(t *testing.T) {
	h := newHarness(t, signedIn())
	h.loop.until(t, "token check", func() bool { return !h.ui.checking })
	findItem(h.ui.TrayMenu(), MenuSignOut).Action()
	h.loop.until(t, "signed out", func() bool { return h.ui.TrayMenu().Items[0].Label == MenuNotSignedIn })
	h.engine.events <- Event{Kind: AuthRequired}
	h.engine.events <- Event{Kind: Queued, Job: "x", Path: "/p/x.png"}
	h.loop.until(t, "event handled", func() bool { return h.ui.jobs["x"] != nil })
	if h.ui.authFailed || len(h.notes.all()) != 0 {
		t.Errorf("after a sign-out: authFailed=%v notes=%v", h.ui.authFailed, h.notes.all())
	}
	if findItem(h.ui.TrayMenu(), MenuSignIn) == nil {
		t.Error("no Sign in… entry after signing out")
	}
}
