package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/internal/traytest"
)

// waitFor polls the buffer until it contains want.
func waitFor(t *testing.T, b *testutil.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output never contained %q:\n%s", want, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeAndClientCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bus, err := traytest.NewBus(ctx)
	if errors.Is(err, traytest.ErrNoDaemon) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Address)

	var out testutil.Buffer
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- run(serveCtx, &out, time.Second, []string{"serve"}) }()
	waitFor(t, &out, "serving")

	// A notification shows up as a JSON line with the sender's pid.
	conn, err := traytest.Connect(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := conn.Object(traytest.NotificationsName, traytest.NotificationsPath).Call(traytest.NotificationsIface+".Notify", 0,
		"demo", uint32(0), "", "Link copied", "https://x/u/a.png", []string{"default", "Open"}, map[string]dbus.Variant{}, int32(-1))
	if c.Err != nil {
		t.Fatal(c.Err)
	}
	waitFor(t, &out, `notification {"ID":1,"AppName":"demo","Summary":"Link copied"`)

	// Client commands: no items yet.
	var items bytes.Buffer
	if err := run(ctx, &items, time.Second, []string{"items"}); err != nil || items.Len() != 0 {
		t.Fatalf("items = %q, %v", items.String(), err)
	}
	err = run(ctx, &items, 100*time.Millisecond, []string{"click", "Quit"})
	if err == nil || !strings.Contains(err.Error(), "no tray item") {
		t.Fatalf("click with no item: %v", err)
	}
	if err := run(ctx, &items, time.Second, []string{"click"}); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("click without a label: %v", err)
	}

	stop()
	if err := <-served; err != nil {
		t.Fatalf("serve returned %v after Ctrl-C", err)
	}
}
