//go:build !nogui

package main

import (
	"errors"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// panickyApp's clipboard fails the way GLFW's does once the app's loop has
// ended and GLFW is terminated.
type panickyApp struct{ fyne.App }

func (panickyApp) Clipboard() fyne.Clipboard {
	panic("NotInitialized: The GLFW library is not initialized")
}

// A link that arrives while the app quits is not copied, and the process
// does not crash.
func TestClipAfterQuit(t *testing.T) {
	a := test.NewTempApp(t)
	var quit atomic.Bool
	c := clip{a, &quit}
	if err := c.SetText("https://z.example/u/a.png"); err != nil {
		t.Fatalf("copy while running: %v", err)
	}
	if got := a.Clipboard().Content(); got != "https://z.example/u/a.png" {
		t.Errorf("clipboard = %q", got)
	}
	if err := (clip{panickyApp{a}, &quit}).SetText("https://z.example/u/b.png"); !errors.Is(err, errAppQuit) {
		t.Errorf("copy as GLFW goes away = %v, want errAppQuit", err)
	}
	quit.Store(true)
	if err := c.SetText("https://z.example/u/c.png"); !errors.Is(err, errAppQuit) {
		t.Errorf("copy after quit = %v, want errAppQuit", err)
	}
}
