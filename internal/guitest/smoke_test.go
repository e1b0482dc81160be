package guitest

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// Window titles and tray menu labels of the app (they mirror the constants
// in package app, which this package cannot import without Fyne).
const (
	titleSignIn   = "Sign in to Zipline"
	titleDropZone = "Zipline Tray"
	titleQueue    = "Queue & history"

	menuDropZone    = "Open drop zone"
	menuPause       = "Pause watching"
	menuResume      = "Resume watching"
	menuSignInAgain = "Sign in again…"
	menuQueue       = "Queue & history…"
	menuRecent      = "Recent uploads"
	menuQuit        = "Quit"
)

// A fresh profile (no sign-in yet) opens the sign-in window, and it really
// draws: the capture of the window has text and widgets, not one flat
// colour.
func TestFreshProfileShowsSignInWindow(t *testing.T) {
	s := newSession(t)
	fakeServer(t)
	app := s.start()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	id, err := app.waitWindow(ctx, titleSignIn)
	if err != nil {
		t.Fatal(err)
	}
	// The first frames can be blank while the window maps; wait for a
	// drawn one.
	shot := filepath.Join(t.TempDir(), "signin.png")
	var n, w, h int
	err = poll(ctx, "the sign-in window to be drawn", func() (bool, error) {
		img, err := app.capture(ctx, id, shot)
		if err != nil {
			return false, err
		}
		n = colours(img)
		w, h = img.Bounds().Dx(), img.Bounds().Dy()
		return n >= 32, nil
	})
	if err != nil {
		t.Fatalf("%v: last capture %dx%d with %d colours", err, w, h, n)
	}
	if w < 200 || h < 150 {
		t.Fatalf("sign-in window is %dx%d, too small to hold its form", w, h)
	}
	if app.exited() {
		t.Fatal("the app exited")
	}
}
