package guitest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A display that cannot be opened ends the app with one plain sentence
// and exit status 1, not a Go panic from Fyne's tray setup (Fyne 2.8 logs
// GLFW's failure and then panics in SetSystemTrayMenu). The session has a
// tray host, so without the check the app would reach that call.
func TestUnreachableDisplayExitsWithSentence(t *testing.T) {
	s := newSession(t)
	n := 999
	for ; n < 1099; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	display := fmt.Sprintf(":%d", n)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin)
	cmd.Env = append(append([]string{}, s.env...), "DISPLAY="+display) // the last value wins
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit status 1, got %v\n%s", err, out)
	}
	text := string(out)
	if want := "zipline-tray: cannot open the display " + display + " — "; !strings.Contains(text, want) {
		t.Errorf("output lacks %q:\n%s", want, text)
	}
	for _, bad := range []string{"panic:", "goroutine ", ".go:"} {
		if strings.Contains(text, bad) {
			t.Errorf("output has %q (a stack trace):\n%s", bad, text)
		}
	}
}
