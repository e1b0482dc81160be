package traytest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Bus is a private D-Bus session bus (a dbus-daemon child process), so a
// test can own the desktop names without clashing with other tests or a
// real desktop on the session bus.
type Bus struct {
	Address string // pass as DBUS_SESSION_BUS_ADDRESS
	cmd     *exec.Cmd
	done    chan struct{}
}

// ErrNoDaemon means dbus-daemon is not installed.
var ErrNoDaemon = errors.New("dbus-daemon not found (install the dbus package)")

// NewBus starts a private session bus and returns once it accepts
// connections.
func NewBus(ctx context.Context) (*Bus, error) {
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		return nil, ErrNoDaemon
	}
	cmd := exec.Command(bin, "--session", "--nofork", "--nopidfile", "--print-address=1")
	var stderr bytes.Buffer // it complains harmlessly about fd limits when not root-capable
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start dbus-daemon: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dbus-daemon: %w", err)
	}
	b := &Bus{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		// Wait for the address line before Wait, which closes the pipe.
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
		cmd.Wait()
		close(b.done)
	}()
	select {
	case b.Address = <-addr:
	case <-ctx.Done():
		b.Close()
		return nil, fmt.Errorf("start dbus-daemon: %w", context.Cause(ctx))
	}
	if b.Address == "" {
		b.Close()
		<-b.done
		return nil, fmt.Errorf("start dbus-daemon: it printed no address: %s", strings.TrimSpace(stderr.String()))
	}
	return b, nil
}

// Close stops the daemon and waits for it to exit.
func (b *Bus) Close() error {
	select {
	case <-b.done:
		return nil
	default:
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
	return nil
}
