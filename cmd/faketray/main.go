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
	"io"
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
	if err := run(ctx, os.Stdout, *timeout, args); err != nil {
		fmt.Fprintln(os.Stderr, "faketray:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, timeout time.Duration, args []string) error {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		return errors.New("DBUS_SESSION_BUS_ADDRESS is not set; run inside dbus-run-session or scripts/testenv.sh")
	}
	switch {
	case args[0] == "serve" && len(args) == 1:
		return serve(ctx, w, addr)
	case args[0] == "click" && len(args) == 2:
	case len(args) == 1 && (args[0] == "items" || args[0] == "menu" || args[0] == "activate"):
	default:
		return fmt.Errorf("unknown command or wrong arguments: %q (see faketray -h)", args)
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
			fmt.Fprintln(w, id)
		}
		return nil
	}
	it, err := newestItem(ctx, conn)
	if err != nil {
		return err
	}
	switch args[0] {
	case "menu":
		m, err := it.Menu(ctx)
		if err != nil {
			return err
		}
		fmt.Fprint(w, m)
		return nil
	case "click":
		return it.Click(ctx, args[1])
	default: // activate
		return it.Activate(ctx)
	}
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
func serve(ctx context.Context, w io.Writer, addr string) error {
	h, err := traytest.StartAddress(addr)
	if err != nil {
		return err
	}
	defer h.Close()
	fmt.Fprintln(w, "faketray: serving tray host and notifications on", addr)
	seenItems := map[string]bool{}
	seenNotes := 0
	for {
		changed := h.Changed()
		for _, id := range h.Items() {
			if !seenItems[id] {
				seenItems[id] = true
				fmt.Fprintln(w, "item", id)
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
			fmt.Fprintln(w, "notification", string(b))
		}
		seenNotes = len(notes)
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}
