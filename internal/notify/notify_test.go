package notify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/traytest"
)

func TestNoBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if _, err := Connect("x", ""); !errors.Is(err, ErrNoBus) {
		t.Fatalf("Connect = %v, want ErrNoBus", err)
	}
	if HasTrayHost() {
		t.Error("a tray host without a bus")
	}
}

// TestActions sends a notification with actions to a fake notification
// server on a private bus and invokes one, as a user's click would.
func TestActions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bus, err := traytest.NewBus(ctx)
	if errors.Is(err, traytest.ErrNoDaemon) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Close() })
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Address)

	if HasTrayHost() {
		t.Fatal("a tray host before one started")
	}
	host, err := traytest.StartAddress(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close() })
	if !HasTrayHost() {
		t.Error("HasTrayHost is false with a StatusNotifierWatcher on the bus")
	}

	d, err := Connect("Zipline Tray", "/tmp/icon.png")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	got := make(chan string, 1)
	id, err := d.Send("Link copied", "a.png → https://z/u/a.png",
		[]Action{{"default", "Open"}, {"delete", "Delete"}}, func(key string) { got <- key })
	if err != nil {
		t.Fatal(err)
	}
	n, err := host.WaitNotification(ctx, func(n traytest.Notification) bool { return n.ID == id })
	if err != nil {
		t.Fatal(err)
	}
	if n.AppName != "Zipline Tray" || n.Summary != "Link copied" || n.AppIcon != "/tmp/icon.png" || n.ActionLabel("delete") != "Delete" {
		t.Errorf("notification = %+v", n)
	}
	if err := host.InvokeAction(id, "delete"); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-got:
		if k != "delete" {
			t.Errorf("action = %q", k)
		}
	case <-ctx.Done():
		t.Fatal("the action never reached the callback")
	}

	// A notification without a handler, and one closed: no callback, no panic.
	id2, err := d.Send("Upload failed", "x", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := host.InvokeAction(id2, "default"); err != nil {
		t.Fatal(err)
	}
}
