// Package traytest is a fake desktop for tests: a StatusNotifierWatcher
// (the tray host) and an org.freedesktop.Notifications server on a D-Bus
// session bus. Tests start the real app on that bus, wait for its tray
// item, read and click its menu, and capture the notifications it sends.
//
// It does what a desktop panel does, over the same protocols:
// StatusNotifierItem (the icon), com.canonical.dbusmenu (its menu) and the
// freedesktop notification spec.
package traytest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"
)

// Well-known names, paths and interfaces the host serves.
const (
	WatcherName  = "org.kde.StatusNotifierWatcher"
	WatcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	WatcherIface = "org.kde.StatusNotifierWatcher"

	NotificationsName  = "org.freedesktop.Notifications"
	NotificationsPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	NotificationsIface = "org.freedesktop.Notifications"

	// DefaultItemPath is where an item lives when it registers with a bus
	// name instead of a path.
	DefaultItemPath = dbus.ObjectPath("/StatusNotifierItem")
)

// Reasons for NotificationClosed, from the notification spec.
const (
	ClosedExpired   uint32 = 1
	ClosedDismissed uint32 = 2
	ClosedByCall    uint32 = 3
)

// Notification is one Notify call the host received.
type Notification struct {
	ID         uint32
	Sender     string // unique bus name of the caller, e.g. ":1.42"
	SenderPID  int    // process id of the caller, 0 if the bus would not say
	AppName    string
	ReplacesID uint32
	AppIcon    string
	Summary    string
	Body       string
	Actions    []string // key, label, key, label... as sent
	Hints      map[string]dbus.Variant
	Timeout    int32
	Closed     bool // closed by CloseNotification, Close or a newer Notify replacing it
}

// HasAction reports whether the notification offers the action key.
func (n Notification) HasAction(key string) bool {
	for i := 0; i+1 < len(n.Actions); i += 2 {
		if n.Actions[i] == key {
			return true
		}
	}
	return false
}

// ActionLabel returns the label shown for action key, or "".
func (n Notification) ActionLabel(key string) string {
	for i := 0; i+1 < len(n.Actions); i += 2 {
		if n.Actions[i] == key {
			return n.Actions[i+1]
		}
	}
	return ""
}

func (n Notification) String() string {
	return fmt.Sprintf("#%d from %s (%q): %q / %q actions=%q", n.ID, n.Sender, n.AppName, n.Summary, n.Body, n.Actions)
}

// Host is a fake tray host and notification server. It is safe for
// concurrent use.
type Host struct {
	conn    *dbus.Conn
	ownConn bool
	props   *prop.Properties
	signals chan *dbus.Signal
	stop    chan struct{} // closed by unexport; godbus may still hold signals, so it is never closed

	mu      sync.Mutex
	items   []string // "service/path", in registration order
	owners  map[string]string
	notes   []Notification
	nextID  uint32
	changed chan struct{} // closed and replaced on every change
	closed  bool
}

// Start makes a host on conn: it claims the watcher and notification names
// and serves them until Close. conn stays the caller's; Close does not
// close it. Use one connection per host: the app under test and the host
// must not share a connection.
func Start(conn *dbus.Conn) (*Host, error) {
	h := &Host{conn: conn, owners: map[string]string{}, changed: make(chan struct{}), nextID: 1}
	if err := h.export(); err != nil {
		h.unexport()
		return nil, err
	}
	return h, nil
}

// StartAddress connects to the bus at address (a D-Bus address such as
// "unix:path=/tmp/bus") and starts a host on its own connection, which
// Close closes.
func StartAddress(address string) (*Host, error) {
	conn, err := Connect(address)
	if err != nil {
		return nil, err
	}
	h, err := Start(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	h.ownConn = true
	return h, nil
}

// Connect opens a private, authenticated connection to the bus at address.
func Connect(address string) (*dbus.Conn, error) {
	conn, err := dbus.Dial(address)
	if err != nil {
		return nil, fmt.Errorf("connect to bus %s: %w", address, err)
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("authenticate to bus %s: %w", address, err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("hello to bus %s: %w", address, err)
	}
	return conn, nil
}

func (h *Host) export() error {
	w := &watcher{h}
	if err := h.conn.Export(w, WatcherPath, WatcherIface); err != nil {
		return fmt.Errorf("export watcher: %w", err)
	}
	props, err := prop.Export(h.conn, WatcherPath, prop.Map{
		WatcherIface: {
			"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
			"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
			"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
		},
	})
	if err != nil {
		return fmt.Errorf("export watcher properties: %w", err)
	}
	h.props = props
	node := &introspect.Node{
		Name: string(WatcherPath),
		Interfaces: []introspect.Interface{
			introspect.IntrospectData,
			prop.IntrospectData,
			{Name: WatcherIface, Methods: introspect.Methods(w), Properties: props.Introspection(WatcherIface),
				Signals: []introspect.Signal{
					{Name: "StatusNotifierItemRegistered", Args: []introspect.Arg{{Name: "service", Type: "s"}}},
					{Name: "StatusNotifierItemUnregistered", Args: []introspect.Arg{{Name: "service", Type: "s"}}},
					{Name: "StatusNotifierHostRegistered"},
				}},
		},
	}
	if err := h.conn.Export(introspect.NewIntrospectable(node), WatcherPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		return fmt.Errorf("export watcher introspection: %w", err)
	}
	if err := h.conn.Export(&notifier{h}, NotificationsPath, NotificationsIface); err != nil {
		return fmt.Errorf("export notifications: %w", err)
	}

	// Forget items whose owner leaves the bus, as a real watcher does.
	if err := h.conn.AddMatchSignal(
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
	); err != nil {
		return fmt.Errorf("watch bus names: %w", err)
	}
	h.signals = make(chan *dbus.Signal, 64)
	h.stop = make(chan struct{})
	h.conn.Signal(h.signals)
	go h.watchOwners()

	for _, name := range []string{WatcherName, NotificationsName} {
		reply, err := h.conn.RequestName(name, dbus.NameFlagDoNotQueue)
		if err != nil {
			return fmt.Errorf("request %s: %w", name, err)
		}
		if reply != dbus.RequestNameReplyPrimaryOwner {
			return fmt.Errorf("request %s: another process already owns it (is a desktop or another test host on this bus?)", name)
		}
	}
	return nil
}

func (h *Host) unexport() {
	h.conn.Export(nil, WatcherPath, WatcherIface)
	h.conn.Export(nil, WatcherPath, "org.freedesktop.DBus.Properties")
	h.conn.Export(nil, WatcherPath, "org.freedesktop.DBus.Introspectable")
	h.conn.Export(nil, NotificationsPath, NotificationsIface)
	if h.signals != nil {
		h.conn.RemoveSignal(h.signals)
		h.conn.RemoveMatchSignal(
			dbus.WithMatchSender("org.freedesktop.DBus"),
			dbus.WithMatchInterface("org.freedesktop.DBus"),
			dbus.WithMatchMember("NameOwnerChanged"),
		)
		close(h.stop)
	}
}

// Close releases the names and stops serving. It closes the connection
// only if StartAddress opened it.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	close(h.changed)
	h.mu.Unlock()

	var errs []error
	for _, name := range []string{WatcherName, NotificationsName} {
		if _, err := h.conn.ReleaseName(name); err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", name, err))
		}
	}
	h.unexport()
	if h.ownConn {
		if err := h.conn.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Conn is the host's connection; items are called through it.
func (h *Host) Conn() *dbus.Conn { return h.conn }

// notify wakes everyone waiting for a change. Call with h.mu held.
func (h *Host) notifyLocked() {
	if h.closed {
		return
	}
	close(h.changed)
	h.changed = make(chan struct{})
}

// Changed returns a channel that is closed at the next change: an item
// registers or leaves, a notification arrives or closes, or the host
// closes. Take it before reading the state you react to.
func (h *Host) Changed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

// wait calls check under the lock until it reports done, the context ends
// or the host closes.
func (h *Host) wait(ctx context.Context, what string, check func() bool) error {
	for {
		h.mu.Lock()
		if check() {
			h.mu.Unlock()
			return nil
		}
		if h.closed {
			h.mu.Unlock()
			return fmt.Errorf("wait for %s: host closed", what)
		}
		ch := h.changed
		h.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", what, context.Cause(ctx))
		}
	}
}

func (h *Host) watchOwners() {
	for {
		var sig *dbus.Signal
		var ok bool
		select {
		case sig, ok = <-h.signals:
			if !ok {
				return // the connection closed
			}
		case <-h.stop:
			return
		}
		if sig == nil || sig.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(sig.Body) < 3 {
			continue
		}
		name, _ := sig.Body[0].(string)
		newOwner, _ := sig.Body[2].(string)
		if newOwner != "" {
			continue
		}
		h.mu.Lock()
		var gone []string
		kept := h.items[:0]
		for _, it := range h.items {
			if h.owners[it] == name || strings.HasPrefix(it, name+"/") {
				gone = append(gone, it)
				delete(h.owners, it)
				continue
			}
			kept = append(kept, it)
		}
		h.items = kept
		if len(gone) > 0 {
			h.props.SetMust(WatcherIface, "RegisteredStatusNotifierItems", append([]string{}, h.items...))
			h.notifyLocked()
		}
		h.mu.Unlock()
		for _, it := range gone {
			h.conn.Emit(WatcherPath, WatcherIface+".StatusNotifierItemUnregistered", it)
		}
	}
}

// Items lists the registered items as "service/path".
func (h *Host) Items() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.items...)
}

// WaitItem waits until an item is registered and returns the newest one.
func (h *Host) WaitItem(ctx context.Context) (*Item, error) {
	var id string
	err := h.wait(ctx, "a tray item to register", func() bool {
		if len(h.items) == 0 {
			return false
		}
		id = h.items[len(h.items)-1]
		return true
	})
	if err != nil {
		return nil, err
	}
	return NewItem(h.conn, id)
}

// WaitItemPID waits for an item served by process pid (the app under
// test), ignoring items of other processes on the bus.
func (h *Host) WaitItemPID(ctx context.Context, pid int) (*Item, error) {
	checked := map[string]bool{}
	for {
		var fresh []string
		err := h.wait(ctx, fmt.Sprintf("a tray item from process %d", pid), func() bool {
			fresh = fresh[:0]
			for _, it := range h.items {
				if !checked[it] {
					fresh = append(fresh, it)
				}
			}
			return len(fresh) > 0
		})
		if err != nil {
			return nil, err
		}
		for _, id := range fresh {
			checked[id] = true
			svc, _ := splitItem(id)
			if p, err := busPID(h.conn, svc); err == nil && p == pid {
				return NewItem(h.conn, id)
			}
		}
	}
}

// busPID asks the bus which process owns name.
func busPID(conn *dbus.Conn, name string) (int, error) {
	var pid uint32
	err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, name).Store(&pid)
	if err != nil {
		return 0, fmt.Errorf("process id of %s: %w", name, err)
	}
	return int(pid), nil
}

// Notifications returns every notification received so far, oldest first.
func (h *Host) Notifications() []Notification {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Notification, len(h.notes))
	copy(out, h.notes)
	return out
}

// WaitNotification waits for a notification for which match returns true
// (nil matches any) and returns it. Notifications received before the call
// count too.
func (h *Host) WaitNotification(ctx context.Context, match func(Notification) bool) (Notification, error) {
	var found Notification
	err := h.wait(ctx, "a notification", func() bool {
		for _, n := range h.notes {
			if match == nil || match(n) {
				found = n
				return true
			}
		}
		return false
	})
	if err != nil {
		h.mu.Lock()
		var got []string
		for _, n := range h.notes {
			got = append(got, n.String())
		}
		h.mu.Unlock()
		return Notification{}, fmt.Errorf("%w; received %d: [%s]", err, len(got), strings.Join(got, "; "))
	}
	return found, nil
}

// InvokeAction tells the sender of notification id that the user chose
// action key (what clicking a notification button does), then closes the
// notification as dismissed, as notification daemons do.
func (h *Host) InvokeAction(id uint32, key string) error {
	h.mu.Lock()
	var n *Notification
	for i := range h.notes {
		if h.notes[i].ID == id {
			n = &h.notes[i]
		}
	}
	if n == nil {
		h.mu.Unlock()
		return fmt.Errorf("invoke %q on notification %d: no such notification", key, id)
	}
	if key != "default" && !n.HasAction(key) {
		acts := n.Actions
		h.mu.Unlock()
		return fmt.Errorf("invoke %q on notification %d: it offers only %q", key, id, acts)
	}
	h.mu.Unlock()
	if err := h.conn.Emit(NotificationsPath, NotificationsIface+".ActionInvoked", id, key); err != nil {
		return fmt.Errorf("emit ActionInvoked: %w", err)
	}
	return h.CloseNotification(id, ClosedDismissed)
}

// CloseNotification closes notification id with reason (ClosedExpired...) and emits
// NotificationClosed, as a daemon does when a notification goes away.
func (h *Host) CloseNotification(id uint32, reason uint32) error {
	h.mu.Lock()
	found := false
	for i := range h.notes {
		if h.notes[i].ID == id && !h.notes[i].Closed {
			h.notes[i].Closed = true
			found = true
		}
	}
	if found {
		h.notifyLocked()
	}
	h.mu.Unlock()
	if !found {
		return nil
	}
	if err := h.conn.Emit(NotificationsPath, NotificationsIface+".NotificationClosed", id, reason); err != nil {
		return fmt.Errorf("emit NotificationClosed: %w", err)
	}
	return nil
}

// watcher is the org.kde.StatusNotifierWatcher object.
type watcher struct{ h *Host }

// RegisterStatusNotifierItem takes either a bus name (the item is at
// /StatusNotifierItem) or an object path on the caller's connection, which
// is what fyne.io/systray sends.
func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	svc, path := string(sender), DefaultItemPath
	switch {
	case strings.HasPrefix(service, "/"):
		path = dbus.ObjectPath(service)
	case service != "":
		svc = service
	}
	if !path.IsValid() {
		return dbus.MakeFailedError(fmt.Errorf("invalid item path %q", service))
	}
	id := svc + string(path)
	h := w.h
	h.mu.Lock()
	fresh := true
	for _, it := range h.items {
		if it == id {
			fresh = false
		}
	}
	if fresh {
		h.items = append(h.items, id)
		h.owners[id] = string(sender)
		h.props.SetMust(WatcherIface, "RegisteredStatusNotifierItems", append([]string{}, h.items...))
		h.notifyLocked()
	}
	h.mu.Unlock()
	if fresh {
		h.conn.Emit(WatcherPath, WatcherIface+".StatusNotifierItemRegistered", id)
	}
	return nil
}

// RegisterStatusNotifierHost accepts any host; this one is always there.
func (w *watcher) RegisterStatusNotifierHost(service string) *dbus.Error {
	return nil
}

// notifier is the org.freedesktop.Notifications object.
type notifier struct{ h *Host }

func (s *notifier) Notify(sender dbus.Sender, appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	h := s.h
	pid, _ := busPID(h.conn, string(sender))
	h.mu.Lock()
	defer h.mu.Unlock()
	id := replacesID
	if id == 0 {
		id = h.nextID
		h.nextID++
	} else {
		for i := range h.notes {
			if h.notes[i].ID == id {
				h.notes[i].Closed = true
			}
		}
	}
	if hints == nil {
		hints = map[string]dbus.Variant{}
	}
	h.notes = append(h.notes, Notification{
		ID: id, Sender: string(sender), SenderPID: pid, AppName: appName, ReplacesID: replacesID, AppIcon: appIcon,
		Summary: summary, Body: body, Actions: append([]string(nil), actions...), Hints: hints, Timeout: timeout,
	})
	h.notifyLocked()
	return id, nil
}

func (s *notifier) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"actions", "body"}, nil
}

func (s *notifier) GetServerInformation() (name, vendor, version, specVersion string, err *dbus.Error) {
	return "traytest", "zipline-tray", "1.0", "1.2", nil
}

func (s *notifier) CloseNotification(id uint32) *dbus.Error {
	if err := s.h.CloseNotification(id, ClosedByCall); err != nil {
		return dbus.MakeFailedError(err)
	}
	return nil
}
