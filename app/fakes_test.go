package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline"
)

// loop stands in for Fyne's UI goroutine: the UI's background work hands
// its updates to it, and the test goroutine runs them while it waits.
type loop struct{ ch chan func() }

func newLoop() *loop { return &loop{ch: make(chan func(), 4096)} }

func (l *loop) do(f func()) { l.ch <- f }

// until runs UI updates until cond holds, failing after a deadline.
func (l *loop) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	// Conditions on state outside the UI (fakes) are re-checked on a tick.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case f := <-l.ch:
			f()
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// drain runs the UI updates queued so far.
func (l *loop) drain() {
	for {
		select {
		case f := <-l.ch:
			f()
		default:
			return
		}
	}
}

// fakeEngine records what the UI asks and lets tests emit events.
type fakeEngine struct {
	mu       sync.Mutex
	events   chan Event
	enqueued []string
	retried  []string
	cancels  []string
	deleted  []string
	retryAll int
	paused   bool
	jobs     []Job
	history  []Record
	watching []FolderStatus
	creds    int
	nextID   int
}

func newFakeEngine() *fakeEngine { return &fakeEngine{events: make(chan Event, 256)} }

func (e *fakeEngine) Enqueue(path string) error {
	e.mu.Lock()
	e.nextID++
	id := fmt.Sprint("job", e.nextID)
	e.enqueued = append(e.enqueued, path)
	e.jobs = append(e.jobs, Job{ID: id, Path: path})
	e.mu.Unlock()
	e.events <- Event{Kind: Queued, Job: id, Path: path}
	return nil
}

func (e *fakeEngine) Subscribe() (<-chan Event, func()) { return e.events, func() {} }

func (e *fakeEngine) Queue() []Job {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.jobs)
}

func (e *fakeEngine) History() []Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.history)
}

func (e *fakeEngine) Retry(id string) error {
	e.mu.Lock()
	e.retried = append(e.retried, id)
	var path string
	for i := range e.jobs {
		if e.jobs[i].ID == id {
			e.jobs[i].State, e.jobs[i].Reason = StateQueued, ""
			path = e.jobs[i].Path
		}
	}
	e.mu.Unlock()
	e.events <- Event{Kind: Queued, Job: id, Path: path}
	return nil
}

func (e *fakeEngine) RetryAll() {
	e.mu.Lock()
	e.retryAll++
	e.mu.Unlock()
}

func (e *fakeEngine) Cancel(id string) error {
	e.mu.Lock()
	e.cancels = append(e.cancels, id)
	var path string
	e.jobs = slices.DeleteFunc(e.jobs, func(j Job) bool {
		if j.ID == id {
			path = j.Path
			return true
		}
		return false
	})
	e.mu.Unlock()
	e.events <- Event{Kind: Cancelled, Job: id, Path: path}
	return nil
}

func (e *fakeEngine) Pause() {
	e.mu.Lock()
	e.paused = true
	e.mu.Unlock()
	e.events <- Event{Kind: Paused}
}

func (e *fakeEngine) Resume() {
	e.mu.Lock()
	e.paused = false
	e.mu.Unlock()
	e.events <- Event{Kind: Resumed}
}

func (e *fakeEngine) Paused() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.paused
}

func (e *fakeEngine) CredentialsChanged() {
	e.mu.Lock()
	e.creds++
	e.mu.Unlock()
}

func (e *fakeEngine) DeleteRemote(_ context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deleted = append(e.deleted, id)
	e.history = slices.DeleteFunc(e.history, func(r Record) bool { return r.ID == id })
	return nil
}

func (e *fakeEngine) Watching() []FolderStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.watching)
}

func (e *fakeEngine) snapshot() (enq, retried, cancels, deleted []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.enqueued), slices.Clone(e.retried), slices.Clone(e.cancels), slices.Clone(e.deleted)
}

// fakeAccount is an Account without a server.
type fakeAccount struct {
	mu           sync.Mutex
	server, user string
	checkErr     error
	probeErr     error
	signOuts     int
}

func (a *fakeAccount) Current() (string, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.server, a.user
}

func (a *fakeAccount) Check(context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.user, a.checkErr
}

func (a *fakeAccount) Probe(context.Context, string) (string, error) { return "4.6.3", a.probeErr }

func (a *fakeAccount) SignInPassword(_ context.Context, server, user, pass, code string, _ bool) (string, error) {
	if pass != "secret" {
		return "", zipline.ErrInvalidCredentials
	}
	a.mu.Lock()
	a.server, a.user = server, user
	a.mu.Unlock()
	return user, nil
}

func (a *fakeAccount) SignInToken(_ context.Context, server, token string, _ bool) (string, error) {
	if token != "tok" {
		return "", zipline.ErrUnauthorized
	}
	a.mu.Lock()
	a.server, a.user = server, "alice"
	a.mu.Unlock()
	return "alice", nil
}

func (a *fakeAccount) SignOut(context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.user = ""
	a.signOuts++
	return nil
}

func (a *fakeAccount) Folders(context.Context) ([]Folder, error) {
	return []Folder{{ID: "f1", Name: "Screenshots"}, {ID: "f2", Name: "Work"}}, nil
}

func (a *fakeAccount) Domains(context.Context) ([]string, error) {
	return []string{"i.example.com", "cdn.example.com"}, nil
}

func (a *fakeAccount) Explain(err error) string { return auth.Explain(err) }

// memSettings is a SettingsStore in memory.
type memSettings struct {
	mu    sync.Mutex
	cfg   *auth.Config
	saves int
}

func (m *memSettings) Load() (*auth.Config, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg == nil {
		return auth.Defaults(), nil
	}
	return cloneConfig(m.cfg), nil
}

func (m *memSettings) Save(c *auth.Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg = cloneConfig(c)
	m.saves++
	return nil
}

// fakeNotifier captures notifications.
type fakeNotifier struct {
	mu    sync.Mutex
	notes []Note
}

func (n *fakeNotifier) Notify(note Note) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notes = append(n.notes, note)
	return nil
}

func (n *fakeNotifier) all() []Note {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.notes)
}

// harness is a UI on a headless test app.
type harness struct {
	t        *testing.T
	app      fyne.App
	ui       *UI
	loop     *loop
	engine   *fakeEngine
	account  Account
	settings *memSettings
	notes    *fakeNotifier
}

type harnessOption func(*Options)

// newHarness starts a UI whose drop zone is built (hidden), so tests can
// look at its widgets.
func newHarness(t *testing.T, account Account, opts ...harnessOption) *harness {
	t.Helper()
	h := newLazyHarness(t, account, opts...)
	h.ui.ensureDropZone()
	return h
}

// newLazyHarness starts a UI as the app does: the drop zone is built when
// first shown.
func newLazyHarness(t *testing.T, account Account, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, app: test.NewTempApp(t), loop: newLoop(), engine: newFakeEngine(),
		account: account, settings: &memSettings{}, notes: &fakeNotifier{}}
	o := Options{
		Engine: h.engine, Account: account, Settings: h.settings, Notifier: h.notes,
		Version: "1.2.3", StateDir: t.TempDir(), HasTray: true, Do: h.loop.do,
		BurstWindow: 30 * time.Millisecond,
	}
	for _, f := range opts {
		f(&o)
	}
	h.ui = New(h.app, o)
	h.ui.Start()
	t.Cleanup(func() {
		// Let queued UI work run so no goroutine stays blocked handing it over.
		done := make(chan struct{})
		go func() { h.ui.Stop(); close(done) }()
		for {
			select {
			case <-done:
				h.loop.drain()
				return
			case f := <-h.loop.ch:
				f()
			}
		}
	})
	return h
}

// menuLabels lists a menu's labels ("-" for a separator).
func menuLabels(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		if it.IsSeparator {
			out = append(out, "-")
			continue
		}
		out = append(out, it.Label)
	}
	return out
}

func findItem(m *fyne.Menu, label string) *fyne.MenuItem {
	for _, it := range m.Items {
		if it.Label == label {
			return it
		}
	}
	return nil
}

var errBoom = errors.New("boom")

// confirmButton finds the confirm button of a dialog overlay.
func confirmButton(t *testing.T, o fyne.CanvasObject) *widget.Button {
	t.Helper()
	var found *widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Button:
			if v.Importance == widget.HighImportance || v.Importance == widget.DangerImportance {
				found = v
			}
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	if found == nil {
		t.Fatal("no confirm button in the dialog")
	}
	return found
}

// memClip is the engine's clipboard in tests.
type memClip struct {
	mu   sync.Mutex
	text string
}

func (c *memClip) SetText(s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.text = s
	return nil
}

func (c *memClip) get() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.text
}

func fileURIs(paths ...string) []fyne.URI {
	var out []fyne.URI
	for _, p := range paths {
		out = append(out, storage.NewFileURI(p))
	}
	return out
}

// tinyPNG is a real 2×2 image, so thumbnails decode.
func tinyPNG() []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, 2, 2)))
	return b.Bytes()
}
