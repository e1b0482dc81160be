package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// lazyEvents is a session's worth of events: uploads that finish, fail,
// retry and get cancelled, a 401 in the middle of an upload, and more jobs
// than the drop zone lists.
func lazyEvents() []Event {
	var evs []Event
	for i := 1; i <= 2*maxDropRows+10; i++ {
		id, path := fmt.Sprint("job", i), fmt.Sprintf("/tmp/file%d.png", i)
		evs = append(evs, Event{Kind: Queued, Job: id, Path: path})
		for sent := int64(10); sent <= 100; sent += 30 {
			evs = append(evs, Event{Kind: Progress, Job: id, Path: path, Sent: sent, Total: 200})
		}
		switch i % 4 {
		case 0:
			evs = append(evs, Event{Kind: Processing, Job: id, Path: path},
				Event{Kind: Uploaded, Job: id, Path: path, URL: "https://z.example.com/u/" + id})
		case 1:
			evs = append(evs, Event{Kind: Failed, Job: id, Path: path, Reason: "The server said no.", Retrying: i%8 == 1})
		case 2:
			evs = append(evs, Event{Kind: Cancelled, Job: id, Path: path})
		}
		if i == 2*maxDropRows+5 {
			evs = append(evs, Event{Kind: AuthRequired}, Event{Kind: Paused})
		}
	}
	return evs
}

// dropRows describes the drop zone's rows as the user sees them.
func dropRows(d *dropZone) []string {
	var out []string
	for _, id := range d.order {
		it := d.items[id]
		out = append(out, fmt.Sprintf("%s name=%q status=%v:%q bar=%v:%.2f link=%v:%q copy=%v cancel=%v retry=%v",
			id, it.name.Text, it.status.Visible(), it.status.Text, it.bar.Visible(), it.bar.Value,
			it.link.Visible(), it.link.Text, it.copyBtn.Visible(), it.cancel.Visible(), it.retry.Visible()))
	}
	return out
}

// feed sends evs and a last Queued event, and runs the UI until it is in.
func feed(t *testing.T, h *harness, evs []Event) {
	t.Helper()
	end := fmt.Sprint("end", len(evs))
	go func() {
		for _, ev := range evs {
			h.engine.events <- ev
		}
		h.engine.events <- Event{Kind: Queued, Job: end, Path: "/tmp/end"}
	}()
	h.loop.until(t, "all events", func() bool { return h.ui.jobs[end] != nil })
}

func TestDropZoneBuiltOnFirstShow(t *testing.T) {
	h := newLazyHarness(t, signedIn())
	for _, w := range h.app.Driver().AllWindows() {
		if w.Title() == DropZoneTitle {
			t.Fatal("the drop zone window exists before it is shown")
		}
	}
	if h.ui.drop != nil {
		t.Fatal("the drop zone is built at start")
	}

	evs := lazyEvents()
	feed(t, h, evs)
	h.ui.dropNote("Could not check the saved sign-in: offline.")
	if h.ui.drop != nil {
		t.Fatal("events built the drop zone")
	}
	if n := len(h.ui.pending.events); n > len(evs)/2 {
		t.Errorf("%d events kept for %d events received; want them merged", n, len(evs))
	}

	h.ui.ShowDropZone()
	if h.ui.drop == nil || !h.ui.drop.win.Content().Visible() {
		t.Fatal("ShowDropZone did not build the drop zone")
	}

	// The same events on a drop zone built at start give the same rows.
	eager := newHarness(t, signedIn())
	feed(t, eager, evs)
	got, want := dropRows(h.ui.drop), dropRows(eager.ui.drop)
	if len(want) != maxDropRows {
		t.Fatalf("eager drop zone has %d rows, want %d", len(want), maxDropRows)
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows after a lazy build differ:\n got %s\nwant %s", strings.Join(got, "\n    "), strings.Join(want, "\n    "))
	}
	if !h.ui.drop.noteLabel.Visible() || !strings.Contains(h.ui.drop.noteLabel.Text, "offline") {
		t.Errorf("note = %v %q, want the note sent before the build", h.ui.drop.noteLabel.Visible(), h.ui.drop.noteLabel.Text)
	}
	if !h.ui.drop.banner.Visible() {
		t.Error("no sign-in banner after the 401 that came before the build")
	}

	// Built once: later events go straight to it.
	d := h.ui.drop
	feed(t, h, []Event{{Kind: Queued, Job: "late", Path: "/tmp/late.txt"}})
	h.ui.ShowDropZone()
	if h.ui.drop != d || d.items["late"] == nil || d.order[1] != "late" { // [0] is feed's last event
		t.Error("an event after the build did not reach the drop zone")
	}
}

func TestDropZoneHiddenNoteBeforeBuild(t *testing.T) {
	h := newLazyHarness(t, signedIn())
	h.ui.dropNote("first")
	h.ui.dropHideNote()
	h.ui.ShowDropZone()
	if h.ui.drop.noteLabel.Visible() {
		t.Errorf("note %q shown after it was hidden", h.ui.drop.noteLabel.Text)
	}
}
