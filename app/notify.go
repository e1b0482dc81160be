package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// Notification titles, stable so tests (and the tray harness) can look for them.
const (
	NoteTokenRejected = "Zipline rejected the saved token — sign in again"
	NoteLinkCopied    = "Link copied"
	NoteUploaded      = "Uploaded"
	NoteUploadFailed  = "Upload failed"
)

// NoteAction is a notification button; Key "default" is a click on the
// notification itself.
type NoteAction struct {
	Key, Label string
}

// Note is one desktop notification.
type Note struct {
	Title, Body string
	Actions     []NoteAction
	// OnAction runs, on any goroutine, with the key the user chose.
	OnAction func(key string)
}

// Notifier shows notifications. The Linux one (package main wires
// internal/notify) supports actions; others may ignore them.
type Notifier interface {
	Notify(n Note) error
}

// FyneNotifier uses Fyne's notifications: title and body, no actions.
type FyneNotifier struct{ App fyne.App }

// Notify implements Notifier.
func (f FyneNotifier) Notify(n Note) error {
	f.App.SendNotification(fyne.NewNotification(n.Title, n.Body))
	return nil
}

// notify sends n off the UI goroutine (D-Bus calls block).
func (u *UI) notify(n Note) {
	u.spawn(func() {
		if err := u.opts.Notifier.Notify(n); err != nil {
			u.log.Warn("notify", "title", n.Title, "err", err)
		}
	})
}

// burst merges the notifications of uploads that finish close together
// into one ("3 links copied"). A timer, reset by each new result, flushes
// it. All fields are used on the UI goroutine only.
type burst struct {
	links    []Record
	failures []string
	timer    *time.Timer
	first    time.Time
}

// maxHold bounds how long a steady stream of uploads delays the notification.
const maxHold = 6 * time.Second

func (b *burst) addLink(u *UI, r Record) {
	b.links = append(b.links, r)
	b.arm(u)
}

func (b *burst) addFailure(u *UI, name, reason string) {
	b.failures = append(b.failures, fmt.Sprintf("%s: %s", name, reason))
	b.arm(u)
}

func (b *burst) arm(u *UI) {
	now := time.Now()
	if b.timer == nil {
		b.first = now
	} else {
		b.timer.Stop()
	}
	wait := u.opts.BurstWindow
	if left := b.first.Add(maxHold).Sub(now); left < wait {
		wait = max(left, 0)
	}
	b.timer = time.AfterFunc(wait, func() {
		if u.ctx.Err() == nil {
			u.do(u.flushBurst)
		}
	})
}

// flushBurst sends the held notifications. UI goroutine.
func (u *UI) flushBurst() {
	b := &u.burst
	links, failures := b.links, b.failures
	b.links, b.failures, b.timer = nil, nil, nil
	if len(links) > 0 && u.settings.Notify.OnSuccess {
		u.notify(u.successNote(links))
	}
	if len(failures) > 0 && u.settings.Notify.OnFailure {
		n := Note{Title: NoteUploadFailed, Body: failures[0]}
		if len(failures) > 1 {
			n.Title = fmt.Sprintf("%d uploads failed", len(failures))
			n.Body = strings.Join(failures, "\n")
		}
		n.Actions = []NoteAction{{Key: "default", Label: "Show queue"}}
		n.OnAction = func(string) { u.do(u.ShowQueue) }
		u.notify(n)
	}
}

func (u *UI) successNote(links []Record) Note {
	copied := u.settings.Links.Copy
	var n Note
	switch {
	case len(links) == 1 && copied:
		n.Title = NoteLinkCopied
	case len(links) == 1:
		n.Title = NoteUploaded
	case copied:
		n.Title = fmt.Sprintf("%d links copied", len(links))
	default:
		n.Title = fmt.Sprintf("%d files uploaded", len(links))
	}
	var body []string
	for _, r := range links {
		body = append(body, r.Name+" → "+r.URL)
	}
	n.Body = strings.Join(body, "\n")
	label := "Delete"
	if len(links) > 1 {
		label = "Delete all"
	}
	n.Actions = []NoteAction{{Key: "default", Label: "Open"}, {Key: "delete", Label: label}}
	n.OnAction = func(key string) {
		switch key {
		case "delete":
			// Already off the UI goroutine (the notifier's listener).
			for _, r := range links {
				if err := u.opts.Engine.DeleteRemote(u.ctx, r.ID); err != nil {
					u.log.Warn("delete from notification", "name", r.Name, "err", err)
				}
			}
			u.do(u.reloadHistory)
		default:
			u.do(u.ShowDropZone)
		}
	}
	return n
}

// reloadHistory refreshes the recent uploads after a deletion.
func (u *UI) reloadHistory() {
	u.recent = u.opts.Engine.History()
	u.refreshTray()
	if u.queue != nil {
		u.queue.reloadHistory()
	}
}

func isUnauthorized(err error) bool {
	return errors.Is(err, zipline.ErrUnauthorized)
}
