package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/internal/clipboard"
	"github.com/zipline-tray/zipline-tray/zipline"
)

// Env is what a command may touch: standard streams, the environment, the
// saved sign-in, the clipboard. Tests build one by hand; NewEnv is the real
// process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	// StdinIsTerminal allows prompts; StderrIsTerminal allows the progress
	// bar.
	StdinIsTerminal, StderrIsTerminal bool
	// TermWidth is the width of the terminal on stderr (0: unknown).
	TermWidth func() int
	// ReadSecret reads one line from the terminal without echo (the
	// password or token prompt). nil: golang.org/x/term on stdin.
	ReadSecret func() (string, error)

	// Paths are the settings and state folders (zero: auth.DefaultPaths,
	// which honours ZIPLINE_TRAY_HOME).
	Paths auth.Paths
	// Config, when set, is used instead of reading Paths.ConfigFile();
	// commands that change it also save it there.
	Config *auth.Config
	// Store keeps tokens (nil: the OS keyring).
	Store auth.Store

	// Clipboard puts text on the system clipboard (nil: the platform tool).
	Clipboard func(ctx context.Context, text string) error
	// Recorder, when set, is told about each finished upload.
	Recorder Recorder
	// History records uploads in the shared upload history in the state
	// folder (HistoryRecorder) when Recorder is nil. NewEnv sets it.
	History bool

	once    sync.Once
	stdin   *bufio.Reader
	secrets []string // never printed: blanked in messages by errorf
}

// Recorder records a finished upload, e.g. in the upload history. It is
// optional: a nil Env.Recorder records nothing. A Recorder that also
// implements UploadRecorder gets RecordUpload, with everything known about
// the upload, instead of Record.
type Recorder interface {
	Record(path, url, fileID string, size int64) error
}

// UploadRecorder is the detailed form of Recorder.
type UploadRecorder interface {
	RecordUpload(ctx context.Context, u Uploaded) error
}

// Uploaded is one finished upload.
type Uploaded struct {
	Path      string // absolute local path
	URL       string
	FileID    string
	Name      string // the stored name on the server ("" before Zipline 4.3.2)
	Server    string // normalised base URL
	Size      int64
	Options   zipline.UploadOptions // as sent; Password is set for a protected file: never store it
	DeletesAt string                // the server's deletesAt, if it said
	Time      time.Time
	SHA256    string // of the content sent, hex; "" if unknown
	User      string // the uploading account's id; "" if unknown
}

// NewEnv is the environment of this process.
func NewEnv() *Env {
	return &Env{
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.Getenv,
		StdinIsTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		TermWidth: func() int {
			w, _, err := term.GetSize(int(os.Stderr.Fd()))
			if err != nil {
				return 0
			}
			return w
		},
		ReadSecret: func() (string, error) {
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			return string(b), err
		},
		Clipboard: clipboard.Copy,
		History:   true,
	}
}

func (env *Env) init() {
	env.once.Do(func() {
		if env.Stdin == nil {
			env.Stdin = strings.NewReader("")
		}
		if env.Stdout == nil {
			env.Stdout = io.Discard
		}
		if env.Stderr == nil {
			env.Stderr = io.Discard
		}
		if env.Getenv == nil {
			env.Getenv = func(string) string { return "" }
		}
		if env.TermWidth == nil {
			env.TermWidth = func() int { return 0 }
		}
		if env.Clipboard == nil {
			env.Clipboard = clipboard.Copy
		}
		env.stdin = bufio.NewReader(env.Stdin)
	})
}

// errorf prints a message on stderr, with the token (if one is known)
// blanked out: server messages are echoed and must never carry it.
func (env *Env) errorf(format string, a ...any) {
	fmt.Fprint(env.Stderr, env.redact(fmt.Sprintf(format, a...)))
}

func (env *Env) redact(s string) string {
	for _, sec := range env.secrets {
		// A very short secret would blank ordinary words; none of ours
		// (tokens, real passwords) is that short, so that costs nothing.
		if len(sec) >= 6 {
			s = strings.ReplaceAll(s, sec, "[hidden]")
		}
	}
	return s
}

// readLine reads one line from stdin without its line ending.
func (env *Env) readLine() (string, error) {
	line, err := env.stdin.ReadString('\n')
	if err == io.EOF && line != "" {
		err = nil
	}
	return strings.TrimRight(line, "\r\n"), err
}

// prompt asks a question on stderr and reads the answer from the terminal.
func (env *Env) prompt(question string) (string, error) {
	fmt.Fprint(env.Stderr, question)
	s, err := env.readLine()
	return strings.TrimSpace(s), err
}

// promptSecret asks without echo.
func (env *Env) promptSecret(question string) (string, error) {
	fmt.Fprint(env.Stderr, question)
	if env.ReadSecret == nil {
		return env.readLine()
	}
	s, err := env.ReadSecret()
	fmt.Fprintln(env.Stderr)
	return s, err
}

// record tells the Recorder about a finished upload, if there is one.
func (env *Env) record(ctx context.Context, u Uploaded) error {
	if env.Recorder == nil {
		return nil
	}
	if r, ok := env.Recorder.(UploadRecorder); ok {
		return r.RecordUpload(ctx, u)
	}
	return env.Recorder.Record(u.Path, u.URL, u.FileID, u.Size)
}
