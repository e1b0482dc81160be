// Package notify sends desktop notifications with actions over the
// freedesktop D-Bus interface (org.freedesktop.Notifications), which Fyne's
// own notifications lack, and tells whether a tray host is on the bus.
package notify

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/godbus/dbus/v5"
)

const (
	service = "org.freedesktop.Notifications"
	path    = dbus.ObjectPath("/org/freedesktop/Notifications")
	iface   = "org.freedesktop.Notifications"
)

// ErrNoBus means there is no session bus to talk to.
var ErrNoBus = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")

// Action is one button of a notification. Key "default" is the click on
// the notification itself.
type Action struct {
	Key, Label string
}

// DBus sends notifications on its own session-bus connection and runs each
// notification's action callback when the user picks one.
type DBus struct {
	conn    *dbus.Conn
	appName string
	icon    string

	mu       sync.Mutex
	handlers map[uint32]func(key string)
	done     chan struct{}
}

// Connect opens a private session-bus connection and checks that a
// notification server is there. icon is a file path or icon name ("" for
// none).
func Connect(appName, icon string) (*DBus, error) {
	// godbus would otherwise auto-launch a private bus nobody listens on.
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return nil, ErrNoBus
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("notify: connect to the session bus: %w", err)
	}
	if !hasOwner(conn, service) && !activatable(conn, service) {
		conn.Close()
		return nil, fmt.Errorf("notify: no notification server (%s) on the session bus", service)
	}
	if err := conn.AddMatchSignal(dbus.WithMatchObjectPath(path), dbus.WithMatchInterface(iface)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("notify: listen for actions: %w", err)
	}
	d := &DBus{conn: conn, appName: appName, icon: icon, handlers: map[uint32]func(string){}, done: make(chan struct{})}
	ch := make(chan *dbus.Signal, 16)
	conn.Signal(ch)
	go d.listen(ch)
	return d, nil
}

func (d *DBus) listen(ch chan *dbus.Signal) {
	defer close(d.done)
	for sig := range ch {
		if sig == nil {
			return
		}
		switch sig.Name {
		case iface + ".ActionInvoked":
			var id uint32
			var key string
			if err := dbus.Store(sig.Body, &id, &key); err != nil {
				continue
			}
			d.mu.Lock()
			h := d.handlers[id]
			d.mu.Unlock()
			if h != nil {
				h(key)
			}
		case iface + ".NotificationClosed":
			var id, reason uint32
			if err := dbus.Store(sig.Body, &id, &reason); err != nil {
				continue
			}
			d.mu.Lock()
			delete(d.handlers, id)
			d.mu.Unlock()
		}
	}
}

// Send shows a notification. onAction, if not nil, runs on the listener
// goroutine with the key of the action the user chose.
func (d *DBus) Send(title, body string, actions []Action, onAction func(key string)) (uint32, error) {
	flat := make([]string, 0, 2*len(actions))
	for _, a := range actions {
		flat = append(flat, a.Key, a.Label)
	}
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(byte(1))}
	// Hold the lock across the call so an ActionInvoked that arrives before
	// we stored the handler waits for it.
	d.mu.Lock()
	defer d.mu.Unlock()
	var id uint32
	call := d.conn.Object(service, path).Call(iface+".Notify", 0,
		d.appName, uint32(0), d.icon, title, body, flat, hints, int32(-1))
	if err := call.Store(&id); err != nil {
		return 0, fmt.Errorf("notify: send %q: %w", title, err)
	}
	if onAction != nil && len(actions) > 0 {
		d.handlers[id] = onAction
	}
	return id, nil
}

// Close ends the connection.
func (d *DBus) Close() error {
	err := d.conn.Close()
	<-d.done
	return err
}

// HasTrayHost reports whether a StatusNotifierItem host
// (org.kde.StatusNotifierWatcher) is on the session bus, i.e. whether a
// tray icon would be shown at all.
func HasTrayHost() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return false
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	defer conn.Close()
	return hasOwner(conn, "org.kde.StatusNotifierWatcher")
}

// activatable reports whether the bus can start name on first use.
func activatable(conn *dbus.Conn, name string) bool {
	var names []string
	if err := conn.BusObject().Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err != nil {
		return false
	}
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

func hasOwner(conn *dbus.Conn, name string) bool {
	var ok bool
	err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&ok)
	return err == nil && ok
}
