package app

// The drop zone is built the first time it is shown, not at start: laying
// out its text makes Fyne parse its fonts (~30 MB kept for the life of the
// process) and delays the tray (docs/PERFORMANCE.md, issue 5). Until then
// its events and its note wait here and are applied when it is built.

// pendingDrop is what the drop zone would have shown had it been built.
type pendingDrop struct {
	events  []Event
	last    map[string]int // job id → index in events of its latest event
	barrier int            // events before this index are not merged (an AuthRequired came after)
	note    string
}

// ensureDropZone builds the drop zone if it is not built yet, replaying
// what happened meanwhile. UI goroutine.
func (u *UI) ensureDropZone() *dropZone {
	if u.drop != nil {
		return u.drop
	}
	p := u.pending
	u.pending = pendingDrop{}
	u.drop = newDropZone(u)
	for _, ev := range p.events {
		u.drop.update(ev)
	}
	if p.note != "" {
		u.drop.note(p.note)
	}
	return u.drop
}

// dropUpdate applies an event to the drop zone, or keeps it for later.
func (u *UI) dropUpdate(ev Event) {
	if u.drop != nil {
		u.drop.update(ev)
		return
	}
	u.pending.add(ev)
}

// dropNote shows msg under the drop area (now, or when it is built).
func (u *UI) dropNote(msg string) {
	if u.drop != nil {
		u.drop.note(msg)
		return
	}
	u.pending.note = msg
}

// dropHideNote hides the drop zone's note.
func (u *UI) dropHideNote() {
	if u.drop != nil {
		u.drop.hideNote()
		return
	}
	u.pending.note = ""
}

// add keeps ev, merging a job's run of progress events into the latest
// and forgetting the oldest jobs, which the drop zone would have dropped
// from its list too, so the backlog stays small however long the app runs.
func (p *pendingDrop) add(ev Event) {
	switch ev.Kind {
	case Paused, Resumed, WatchChanged:
		return // only refresh the banner, which building does from the UI's state
	case AuthRequired:
		p.events = append(p.events, ev)
		p.barrier = len(p.events)
		return
	}
	if p.last == nil {
		p.last = map[string]int{}
	}
	if i, ok := p.last[ev.Job]; ok && i >= p.barrier && ev.Kind == Progress && p.events[i].Kind == Progress {
		p.events[i] = ev
		return
	}
	p.last[ev.Job] = len(p.events)
	p.events = append(p.events, ev)
	if len(p.last) > 2*maxDropRows {
		p.compact()
	}
}

// compact keeps the events of the newest maxDropRows jobs (by first event)
// and every AuthRequired.
func (p *pendingDrop) compact() {
	seen := map[string]bool{}
	var jobs []string // by first event, oldest first
	for _, ev := range p.events {
		if ev.Kind != AuthRequired && !seen[ev.Job] {
			seen[ev.Job] = true
			jobs = append(jobs, ev.Job)
		}
	}
	keep := map[string]bool{}
	for _, id := range jobs[max(0, len(jobs)-maxDropRows):] {
		keep[id] = true
	}
	var kept []Event
	p.last = map[string]int{}
	p.barrier = 0
	for _, ev := range p.events {
		switch {
		case ev.Kind == AuthRequired:
			kept = append(kept, ev)
			p.barrier = len(kept)
		case keep[ev.Job]:
			p.last[ev.Job] = len(kept)
			kept = append(kept, ev)
		}
	}
	p.events = kept
}
