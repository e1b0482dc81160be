package main

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/traytest"
)

// The test binary doubles as the app under measurement: with
// BENCHGUI_HELPER=item it registers a tray item after BENCHGUI_DELAY and
// waits for SIGTERM; with BENCHGUI_HELPER=exit it fails at once.
func TestMain(m *testing.M) {
	switch os.Getenv("BENCHGUI_HELPER") {
	case "item":
		os.Exit(helperItem())
	case "exit":
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func helperItem() int {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	conn, err := traytest.Connect(os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	if err != nil {
		return 4
	}
	defer conn.Close()
	d, _ := time.ParseDuration(os.Getenv("BENCHGUI_DELAY"))
	time.Sleep(d) // stands in for the app's start-up work
	c := conn.Object(traytest.WatcherName, traytest.WatcherPath).Call(traytest.WatcherIface+".RegisterStatusNotifierItem", 0, "/StatusNotifierItem")
	if c.Err != nil {
		return 5
	}
	<-term
	return 0
}

func startHost(t *testing.T) *traytest.Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bus, err := traytest.NewBus(ctx)
	if err == traytest.ErrNoDaemon {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Close() })
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Address)
	h, err := traytest.StartAddress(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestLaunchTimesItsOwnItem(t *testing.T) {
	host := startHost(t)
	const delay = 300 * time.Millisecond
	t.Setenv("BENCHGUI_HELPER", "item")
	t.Setenv("BENCHGUI_DELAY", delay.String())

	// Another process's item registering meanwhile must not count.
	other, err := traytest.Connect(os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() {
		time.Sleep(50 * time.Millisecond)
		other.Object(traytest.WatcherName, traytest.WatcherPath).Call(traytest.WatcherIface+".RegisterStatusNotifierItem", 0, "/StatusNotifierItem")
	}()

	p, err := launch(context.Background(), host, app{name: "helper", argv: []string{os.Args[0]}}, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p.ready < delay {
		t.Errorf("ready after %v, but the helper registers only after %v: another item was taken for it", p.ready, delay)
	}
	if len(host.Items()) != 2 {
		t.Errorf("host items = %q, want the helper's and the other one", host.Items())
	}
	s, err := read(p.pid)
	if err != nil {
		t.Fatal(err)
	}
	if s.rss <= 0 || s.hwm < s.rss || s.threads <= 0 {
		t.Errorf("implausible sample of the helper: %+v", s)
	}
	if err := p.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	if _, err := read(p.pid); err == nil {
		t.Error("the helper still runs after stop")
	}
}

func TestLaunchReportsEarlyExit(t *testing.T) {
	host := startHost(t)
	t.Setenv("BENCHGUI_HELPER", "exit")
	_, err := launch(context.Background(), host, app{name: "helper", argv: []string{os.Args[0]}}, 20*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited before its tray icon registered") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err = %v, want it to say the helper exited with status 3", err)
	}
}

func TestMemoryByKindSeesTheProgram(t *testing.T) {
	kinds, err := memoryByKind(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if kinds["program binary"] <= 0 {
		t.Errorf("no RSS for the program binary in %v", kinds)
	}
	var sum int64
	for _, v := range kinds {
		sum += v
	}
	s, err := read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// smaps and status are read moments apart; they agree within a few MiB.
	if d := sum - s.rss; d > 4<<10 || d < -4<<10 {
		t.Errorf("smaps adds up to %d KiB, VmRSS says %d KiB", sum, s.rss)
	}
}

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5 * ms}, 5 * ms},
		{[]time.Duration{9 * ms, 1 * ms, 5 * ms}, 5 * ms},
		{[]time.Duration{4 * ms, 1 * ms, 2 * ms, 9 * ms}, 3 * ms},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
