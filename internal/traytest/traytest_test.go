package traytest

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// newBus starts a private bus for one test.
func newBus(t *testing.T) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := NewBus(ctx)
	if errors.Is(err, ErrNoDaemon) {
		t.Skip("traytest needs dbus-daemon: apt-get install dbus")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func connect(t *testing.T, b *Bus) *dbus.Conn {
	t.Helper()
	c, err := Connect(b.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func startHost(t *testing.T, b *Bus) *Host {
	t.Helper()
	h, err := StartAddress(b.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeItem is a small StatusNotifierItem exporter that behaves like
// fyne.io/systray: it registers with its object path, answers the first
// GetLayout with the top level only, and rebuilds its menu (with new ids)
// when "Pause" is clicked, which becomes "Resume".
type fakeItem struct {
	conn *dbus.Conn

	mu        sync.Mutex
	paused    bool
	nextID    int32
	root      fakeEntry
	served    bool // a GetLayout has been answered
	clicked   []string
	activated int
}

type fakeEntry struct {
	id       int32
	props    map[string]dbus.Variant
	children []*fakeEntry
	label    string
}

type wireLayout struct {
	V0 int32
	V1 map[string]dbus.Variant
	V2 []dbus.Variant
}

const fakeMenuPath = dbus.ObjectPath("/StatusNotifierItem/menu")

func newFakeItem(t *testing.T, conn *dbus.Conn) *fakeItem {
	t.Helper()
	f := &fakeItem{conn: conn}
	f.rebuild()
	if err := conn.Export(f, DefaultItemPath, ItemIface); err != nil {
		t.Fatal(err)
	}
	icon := []Pixmap{{W: 2, H: 1, Pix: []byte{255, 255, 0, 0, 255, 0, 0, 255}}}
	_, err := prop.Export(conn, DefaultItemPath, prop.Map{ItemIface: {
		"Status":     {Value: "Active"},
		"Title":      {Value: "Fake tray"},
		"Id":         {Value: "fake"},
		"IconPixmap": {Value: icon},
		"ToolTip": {Value: struct {
			V0 string
			V1 []Pixmap
			V2 string
			V3 string
		}{V2: "Fake tray", V3: "3 uploads queued"}},
		"Menu": {Value: fakeMenuPath},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Export(&fakeMenu{f}, fakeMenuPath, MenuIface); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeItem) register(t *testing.T, service string) {
	t.Helper()
	c := f.conn.Object(WatcherName, WatcherPath).Call(WatcherIface+".RegisterStatusNotifierItem", 0, service)
	if c.Err != nil {
		t.Fatal(c.Err)
	}
}

func (f *fakeItem) entry(label string, children ...*fakeEntry) *fakeEntry {
	f.nextID++
	e := &fakeEntry{id: f.nextID, label: label, children: children, props: map[string]dbus.Variant{
		"label": dbus.MakeVariant(label), "enabled": dbus.MakeVariant(true),
		"toggle-type": dbus.MakeVariant(""), "toggle-state": dbus.MakeVariant(int32(0)),
	}}
	if len(children) > 0 {
		e.props["children-display"] = dbus.MakeVariant("submenu")
	}
	return e
}

// rebuild makes the menu afresh, as Fyne does on every menu refresh.
func (f *fakeItem) rebuild() {
	pause := "Pause"
	if f.paused {
		pause = "Resume"
	}
	f.nextID++
	sep := &fakeEntry{id: f.nextID, props: map[string]dbus.Variant{"type": dbus.MakeVariant("separator")}}
	off := f.entry("Upload clipboard")
	off.props["enabled"] = dbus.MakeVariant(false)
	recent := f.entry("Recent uploads", f.entry("shot.png"), f.entry("notes.txt"))
	f.root = fakeEntry{children: []*fakeEntry{f.entry("Open drop zone"), f.entry(pause), off, recent, sep, f.entry("_Quit")}}
	f.served = false
}

func (f *fakeItem) Activate(x, y int32) *dbus.Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.activated++
	return nil
}

func (f *fakeItem) counts() (activated int, clicked []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.activated, append([]string(nil), f.clicked...)
}

type fakeMenu struct{ f *fakeItem }

func toWire(e *fakeEntry, depth int32) wireLayout {
	l := wireLayout{V0: e.id, V1: e.props, V2: []dbus.Variant{}}
	if depth == 0 {
		return l
	}
	for _, c := range e.children {
		l.V2 = append(l.V2, dbus.MakeVariant(toWire(c, depth-1)))
	}
	return l
}

func find(e *fakeEntry, id int32) *fakeEntry {
	if e.id == id {
		return e
	}
	for _, c := range e.children {
		if f := find(c, id); f != nil {
			return f
		}
	}
	return nil
}

func (m *fakeMenu) GetLayout(parent, depth int32, names []string) (uint32, wireLayout, *dbus.Error) {
	f := m.f
	f.mu.Lock()
	defer f.mu.Unlock()
	e := find(&f.root, parent)
	if e == nil {
		return 0, wireLayout{}, dbus.MakeFailedError(errors.New("no such id"))
	}
	if !f.served {
		// Like fyne.io/systray: the first answer after a reset is one level deep.
		f.served = true
		depth = 1
	}
	return uint32(f.nextID), toWire(e, depth), nil
}

func (m *fakeMenu) Event(id int32, event string, data dbus.Variant, ts uint32) *dbus.Error {
	f := m.f
	f.mu.Lock()
	defer f.mu.Unlock()
	e := find(&f.root, id)
	if e == nil || event != "clicked" {
		return nil // stale ids are ignored, as by systray
	}
	f.clicked = append(f.clicked, e.label)
	if e.label == "Pause" || e.label == "Resume" {
		f.paused = !f.paused
		f.rebuild()
	}
	return nil
}

func TestItemMenuClickAndActivate(t *testing.T) {
	b := newBus(t)
	h := startHost(t, b)
	app := connect(t, b)
	f := newFakeItem(t, app)
	f.register(t, string(DefaultItemPath)) // path form, as fyne.io/systray sends
	ctx := testCtx(t)

	it, err := h.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if it.Service != app.Names()[0] || it.Path != DefaultItemPath {
		t.Fatalf("item = %s, want %s%s", it, app.Names()[0], DefaultItemPath)
	}
	if got := h.Items(); !slices.Equal(got, []string{app.Names()[0] + "/StatusNotifierItem"}) {
		t.Fatalf("Items() = %q", got)
	}
	if pid, err := it.PID(); err != nil || pid != os.Getpid() {
		t.Fatalf("PID() = %d, %v; want %d", pid, err, os.Getpid())
	}

	if s, err := it.StringProperty(ctx, "Status"); err != nil || s != "Active" {
		t.Fatalf("Status = %q, %v", s, err)
	}
	if s, err := it.StringProperty(ctx, "Title"); err != nil || s != "Fake tray" {
		t.Fatalf("Title = %q, %v", s, err)
	}
	icon, err := it.Icon(ctx)
	if err != nil || len(icon) != 1 || icon[0].W != 2 || icon[0].H != 1 || len(icon[0].Pix) != 8 {
		t.Fatalf("Icon = %+v, %v", icon, err)
	}
	if title, desc, err := it.ToolTip(ctx); err != nil || title != "Fake tray" || desc != "3 uploads queued" {
		t.Fatalf("ToolTip = %q, %q, %v", title, desc, err)
	}

	// The first GetLayout answer is shallow; Menu must still return the
	// submenu's children.
	m, err := it.Menu(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Open drop zone", "Pause", "Upload clipboard", "Recent uploads", "---", "_Quit"}
	if !slices.Equal(m.Labels(), want) {
		t.Fatalf("menu labels = %q, want %q\n%s", m.Labels(), want, m)
	}
	recent := m.Find("Recent uploads")
	if recent == nil || !recent.Submenu || !slices.Equal(recent.Labels(), []string{"shot.png", "notes.txt"}) {
		t.Fatalf("Recent uploads submenu wrong:\n%s", m)
	}
	if m.Find("Quit") == nil {
		t.Fatalf("Find ignores mnemonics: Quit not found in\n%s", m)
	}
	if e := m.Find("Upload clipboard"); e == nil || e.Enabled {
		t.Fatalf("Upload clipboard should be disabled:\n%s", m)
	}
	if err := it.Click(ctx, "Upload clipboard"); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("clicking a disabled entry: err = %v", err)
	}
	if err := it.Click(ctx, "No such thing"); err == nil || !strings.Contains(err.Error(), "Open drop zone") {
		t.Fatalf("clicking a missing entry should list the menu, err = %v", err)
	}

	if err := it.Click(ctx, "Pause"); err != nil {
		t.Fatal(err)
	}
	m, err = it.WaitMenu(ctx, func(m *MenuItem) bool { return m.Find("Resume") != nil })
	if err != nil {
		t.Fatal(err)
	}
	if m.Find("Pause") != nil {
		t.Fatalf("Pause still there after clicking it:\n%s", m)
	}
	if err := it.Click(ctx, "notes.txt"); err != nil {
		t.Fatal(err)
	}
	if err := it.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	activated, clicked := f.counts()
	if activated != 1 || !slices.Equal(clicked, []string{"Pause", "notes.txt"}) {
		t.Fatalf("exporter saw activated=%d clicked=%q", activated, clicked)
	}

	// A client other than the host finds the item through the watcher.
	other := connect(t, b)
	ids, err := RegisteredItems(ctx, other)
	if err != nil || len(ids) != 1 {
		t.Fatalf("RegisteredItems = %q, %v", ids, err)
	}
	it2, err := NewItem(other, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := it2.Click(ctx, "Resume"); err != nil {
		t.Fatal(err)
	}
	if _, err := it2.WaitMenu(ctx, func(m *MenuItem) bool { return m.Find("Pause") != nil }); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterWithBusName(t *testing.T) {
	b := newBus(t)
	h := startHost(t, b)
	app := connect(t, b)
	newFakeItem(t, app)
	const name = "org.kde.StatusNotifierItem-1-1"
	if _, err := app.RequestName(name, dbus.NameFlagDoNotQueue); err != nil {
		t.Fatal(err)
	}
	f := &fakeItem{conn: app}
	f.register(t, name)
	ctx := testCtx(t)
	it, err := h.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if it.Service != name || it.Path != DefaultItemPath {
		t.Fatalf("item = %s", it)
	}
	if _, err := it.Menu(ctx); err != nil {
		t.Fatal(err)
	}
	// Registering twice keeps one entry.
	f.register(t, name)
	if got := h.Items(); len(got) != 1 {
		t.Fatalf("Items() = %q after registering twice", got)
	}
}

func TestItemForgottenWhenAppLeaves(t *testing.T) {
	b := newBus(t)
	h := startHost(t, b)
	ctx := testCtx(t)

	watch := connect(t, b)
	if err := watch.AddMatchSignal(dbus.WithMatchInterface(WatcherIface)); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan *dbus.Signal, 10)
	watch.Signal(sigs)

	app, err := Connect(b.Address)
	if err != nil {
		t.Fatal(err)
	}
	newFakeItem(t, app).register(t, string(DefaultItemPath))
	pid := os.Getpid()
	it, err := h.WaitItemPID(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	id := it.String()
	if s := waitSignal(t, sigs, "StatusNotifierItemRegistered"); s.Body[0] != id {
		t.Fatalf("registered signal for %v, want %s", s.Body, id)
	}
	app.Close()
	if s := waitSignal(t, sigs, "StatusNotifierItemUnregistered"); s.Body[0] != id {
		t.Fatalf("unregistered signal for %v, want %s", s.Body, id)
	}
	if got := h.Items(); len(got) != 0 {
		t.Fatalf("Items() = %q after the app left", got)
	}
	if ids, err := RegisteredItems(ctx, watch); err != nil || len(ids) != 0 {
		t.Fatalf("RegisteredItems = %q, %v after the app left", ids, err)
	}

	// A process with no item: WaitItemPID gives up at the deadline.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := h.WaitItemPID(short, pid+1_000_000); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitItemPID for a missing process: %v", err)
	}
}

func waitSignal(t *testing.T, ch chan *dbus.Signal, member string) *dbus.Signal {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case s := <-ch:
			if strings.HasSuffix(s.Name, "."+member) {
				return s
			}
		case <-timeout.C:
			t.Fatalf("no %s signal", member)
		}
	}
}

func TestNotifications(t *testing.T) {
	b := newBus(t)
	h := startHost(t, b)
	ctx := testCtx(t)
	app := connect(t, b)
	if err := app.AddMatchSignal(dbus.WithMatchInterface(NotificationsIface)); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan *dbus.Signal, 10)
	app.Signal(sigs)
	obj := app.Object(NotificationsName, NotificationsPath)

	var caps []string
	if err := obj.Call(NotificationsIface+".GetCapabilities", 0).Store(&caps); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(caps, "actions") || !slices.Contains(caps, "body") {
		t.Fatalf("capabilities = %q", caps)
	}
	var name, vendor, version, spec string
	if err := obj.Call(NotificationsIface+".GetServerInformation", 0).Store(&name, &vendor, &version, &spec); err != nil || name == "" {
		t.Fatalf("server information = %q, %v", name, err)
	}

	notify := func(replaces uint32, summary string, actions []string) uint32 {
		var id uint32
		err := obj.Call(NotificationsIface+".Notify", 0, "zipline-tray", replaces, "", summary, "body of "+summary,
			actions, map[string]dbus.Variant{"urgency": dbus.MakeVariant(byte(2))}, int32(-1)).Store(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	changed := h.Changed()
	select {
	case <-changed:
		t.Fatal("Changed closed before anything happened")
	default:
	}
	first := notify(0, "Uploaded", nil)
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("Changed not closed by a Notify")
	}
	second := notify(0, "Signed out", []string{"default", "Sign in"})
	if first == 0 || second == first {
		t.Fatalf("ids %d, %d: want distinct, non-zero", first, second)
	}

	n, err := h.WaitNotification(ctx, func(n Notification) bool { return n.HasAction("default") })
	if err != nil {
		t.Fatal(err)
	}
	if n.ID != second || n.Summary != "Signed out" || n.Body != "body of Signed out" || n.AppName != "zipline-tray" ||
		n.ActionLabel("default") != "Sign in" || n.Sender != app.Names()[0] || n.SenderPID != os.Getpid() {
		t.Fatalf("notification = %+v", n)
	}
	if u, _ := n.Hints["urgency"].Value().(byte); u != 2 {
		t.Fatalf("hints = %v", n.Hints)
	}

	if err := h.InvokeAction(second, "nope"); err == nil {
		t.Fatal("InvokeAction accepted an action the notification does not offer")
	}
	if err := h.InvokeAction(second, "default"); err != nil {
		t.Fatal(err)
	}
	s := waitSignal(t, sigs, "ActionInvoked")
	if s.Body[0] != second || s.Body[1] != "default" {
		t.Fatalf("ActionInvoked%v", s.Body)
	}
	s = waitSignal(t, sigs, "NotificationClosed")
	if s.Body[0] != second || s.Body[1] != ClosedDismissed {
		t.Fatalf("NotificationClosed%v", s.Body)
	}

	// CloseNotification from the app, and replacing a notification.
	if c := obj.Call(NotificationsIface+".CloseNotification", 0, first); c.Err != nil {
		t.Fatal(c.Err)
	}
	s = waitSignal(t, sigs, "NotificationClosed")
	if s.Body[0] != first || s.Body[1] != ClosedByCall {
		t.Fatalf("NotificationClosed%v", s.Body)
	}
	if id := notify(first, "Uploaded again", nil); id != first {
		t.Fatalf("replacing notification %d gave id %d", first, id)
	}
	all := h.Notifications()
	if len(all) != 3 || !all[0].Closed || !all[1].Closed || all[2].Closed || all[2].ReplacesID != first {
		t.Fatalf("notifications = %+v", all)
	}

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = h.WaitNotification(short, func(n Notification) bool { return n.Summary == "never" })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Uploaded again") {
		t.Fatalf("WaitNotification timeout error should list what came: %v", err)
	}
}

func TestSecondHostOnSameBusFails(t *testing.T) {
	b := newBus(t)
	startHost(t, b)
	_, err := StartAddress(b.Address)
	if err == nil || !strings.Contains(err.Error(), "already owns") {
		t.Fatalf("second host: err = %v", err)
	}
}

func TestCloseReleasesNamesAndWakesWaiters(t *testing.T) {
	b := newBus(t)
	h, err := StartAddress(b.Address)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.WaitItem(context.Background())
		done <- err
	}()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "host closed") {
		t.Fatalf("WaitItem after Close: %v", err)
	}
	// The names are free again.
	h2 := startHost(t, b)
	if h2 == nil {
		t.Fatal("no host")
	}
}

func TestMenuTimeoutShowsLastMenu(t *testing.T) {
	b := newBus(t)
	h := startHost(t, b)
	app := connect(t, b)
	newFakeItem(t, app).register(t, string(DefaultItemPath))
	ctx := testCtx(t)
	it, err := h.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = it.WaitMenu(short, func(m *MenuItem) bool { return m.Find("Resume") != nil })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `"Pause"`) {
		t.Fatalf("err = %v", err)
	}
}
