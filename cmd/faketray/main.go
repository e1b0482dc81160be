// Command faketray is a stand-in desktop tray for manual runs and scripts:
// it hosts tray icons and shows notifications as text, over the session
// bus ($DBUS_SESSION_BUS_ADDRESS), using internal/traytest.
//
//	faketray serve              be the tray host and notification server until Ctrl-C
//	faketray items              list registered tray items
//	faketray menu               print the tray menu of the newest item
//	faketray click LABEL        click a menu entry
//	faketray activate           left-click the icon
//
// The client commands talk to whichever host owns the watcher name (a
// "faketray serve", or a real panel), and wait for an item to appear.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/zipline-tray/zipline-tray/internal/traytest"
)

func main() {
	timeout := flag.Duration("timeout", 15*time.Second, "how long client commands wait for the item and menu")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), `Usage: faketray [-timeout D] serve | items | menu | click LABEL | activate
`)
		flag.PrintDefaults()
	}
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		args = []string{"serve"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *timeout, args); err != nil {
		fmt.Fprintln(os.Stderr, "faketray:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, timeout time.Duration, args []string) error {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		return errors.New("DBUS_SESSION_BUS_ADDRESS is not set; run inside dbus-run-session or scripts/testenv.sh")
	}
	if args[0] == "serve" {
		return serve(ctx, addr)
	}
	conn, err := traytest.Connect(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if args[0] == "items" {
		ids, err := traytest.RegisteredItems(ctx, conn)
		if err != nil {
			return err
		}
		for _, id := range ids {
			fmt.Println(id)
		}
		return nil
	}
	it, err := newestItem(ctx, conn)
	if err != nil {
		return err
	}
	switch {
	case args[0] == "menu" && len(args) == 1:
		m, err := it.Menu(ctx)
		if err != nil {
			return err
		}
		fmt.Print(m)
		return nil
	case args[0] == "click" && len(args) == 2:
		return it.Click(ctx, args[1])
	case args[0] == "activate" && len(args) == 1:
		return it.Activate(ctx)
	}
	flag.Usage()
	os.Exit(2)
	return nil
}

// newestItem waits until the watcher lists an item.
func newestItem(ctx context.Context, conn *dbus.Conn) (*traytest.Item, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		ids, err := traytest.RegisteredItems(ctx, conn)
		if err == nil && len(ids) > 0 {
			return traytest.NewItem(conn, ids[len(ids)-1])
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = errors.New("no tray item registered")
			}
			return nil, fmt.Errorf("waiting for a tray item: %w (is \"faketray serve\" and the app running?)", err)
		case <-t.C:
		}
	}
}

// serve hosts items and notifications, printing one line per event.
func serve(ctx context.Context, addr string) error {
	h, err := traytest.StartAddress(addr)
	if err != nil {
		return err
	}
	defer h.Close()
	fmt.Println("faketray: serving tray host and notifications on", addr)
	seenItems := map[string]bool{}
	seenNotes := 0
	for {
		changed := h.Changed()
		for _, id := range h.Items() {
			if !seenItems[id] {
				seenItems[id] = true
				fmt.Println("item", id)
			}
		}
		notes := h.Notifications()
		for _, n := range notes[seenNotes:] {
			b, _ := json.Marshal(struct {
				ID               uint32
				AppName, Summary string
				Body             string
				Actions          []string
				SenderPID        int
			}{n.ID, n.AppName, n.Summary, n.Body, n.Actions, n.SenderPID})
			fmt.Println("notification", string(b))
		}
		seenNotes = len(notes)
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}
