// Package cli implements zipline-tray's command-line interface: login,
// whoami, upload, logout, version, and the commands other files register.
//
// The CLI never starts the GUI toolkit; it must not import Fyne.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes.
const (
	ExitOK          = 0   // everything worked
	ExitFailure     = 1   // at least one thing failed (a file, the network, the keyring...)
	ExitUsage       = 2   // bad flags or arguments, or a question only a terminal could answer
	ExitSignIn      = 3   // not signed in, or the server rejected the token: run "zipline-tray login"
	ExitInterrupted = 130 // Ctrl-C
)

// Command is one sub-command. Files in this package add theirs with
// register from an init function.
type Command struct {
	Name    string
	Summary string // one line for the command list
	// Usage is the full help text: synopsis line first, then a description
	// and the flags (the flag list is appended from the FlagSet when the
	// command uses newFlags).
	Usage string
	Run   func(ctx context.Context, env *Env, args []string) int
}

var commands = map[string]Command{}

// register adds a command to the table. A duplicate name is a programming
// error.
func register(c Command) {
	if c.Name == "" || c.Run == nil {
		panic("cli: command without a name or Run")
	}
	if _, dup := commands[c.Name]; dup {
		panic("cli: command registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

// IsCommand reports whether args are for the CLI: a known command name,
// "help", or a flag. No arguments, or file paths (as from "Open with"),
// are for the desktop app.
func IsCommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	a := args[0]
	if strings.HasPrefix(a, "-psn_") {
		return false // macOS Finder's process serial number: a GUI launch
	}
	if a == "help" || strings.HasPrefix(a, "-") {
		return true
	}
	_, ok := commands[a]
	return ok
}

// Main runs the CLI with the process's real environment and returns the
// exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := Run(ctx, NewEnv(), args)
	if code != ExitOK && ctx.Err() != nil {
		return ExitInterrupted
	}
	return code
}

// Run runs one command line against env.
func Run(ctx context.Context, env *Env, args []string) int {
	env.init()
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, generalUsage())
		return ExitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return helpFor(env, args[1])
		}
		fmt.Fprint(env.Stdout, generalUsage())
		return ExitOK
	case "-v", "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(env.Stderr, "zipline-tray: unknown flag %s\n\n%s", name, generalUsage())
			return ExitUsage
		}
		if _, err := os.Stat(name); err == nil {
			fmt.Fprintf(env.Stderr, "zipline-tray: %q is a file, not a command; to upload it run:\n  zipline-tray upload %s\n", name, shellQuote(args...))
			return ExitUsage
		}
		fmt.Fprintf(env.Stderr, "zipline-tray: unknown command %q\n\n%s", name, generalUsage())
		return ExitUsage
	}
	return c.Run(ctx, env, args[1:])
}

func helpFor(env *Env, name string) int {
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "zipline-tray: unknown command %q\n\n%s", name, generalUsage())
		return ExitUsage
	}
	// Each command prints its own help (with its flags) for --help.
	return c.Run(context.Background(), env, []string{"--help"})
}

func generalUsage() string {
	var b strings.Builder
	b.WriteString("zipline-tray uploads files to a Zipline server.\n\nUsage:\n")
	if guiBuild {
		b.WriteString("  zipline-tray                     start the desktop app (tray)\n")
	}
	b.WriteString("  zipline-tray COMMAND [flags]     run a command\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].Summary)
	}
	b.WriteString(`
Run "zipline-tray help COMMAND" or "zipline-tray COMMAND --help" for details.

Environment:
  ZIPLINE_SERVER, ZIPLINE_TOKEN   use this server and token instead of the saved sign-in
  ZIPLINE_TRAY_HOME               keep settings and state in this folder

Exit codes: 0 ok, 1 failure, 2 usage error, 3 sign in again (zipline-tray login).
`)
	return b.String()
}

// newFlags returns a FlagSet for cmd whose errors and help the caller
// handles with parseFlags.
func newFlags(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet("zipline-tray "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args with fs, allowing flags after positional
// arguments ("upload a.png --copy"); "--" ends the flags. On --help it
// prints the command's help to stdout and returns ExitOK, on a bad flag a
// message to stderr and ExitUsage; done is false when the caller should
// go on.
func parseFlags(env *Env, fs *flag.FlagSet, c Command, args []string) (pos []string, code int, done bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(env.Stdout, commandHelp(fs, c))
			return nil, ExitOK, true
		}
		if err != nil {
			return nil, usageError(env, c, "%v", err), true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, false
		}
		// fs.Parse stops at the first non-flag or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), 0, false
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError prints "zipline-tray CMD: message" and a pointer to --help.
func usageError(env *Env, c Command, format string, a ...any) int {
	fmt.Fprintf(env.Stderr, "zipline-tray %s: %s\nRun \"zipline-tray %s --help\" for usage.\n", c.Name, fmt.Sprintf(format, a...), c.Name)
	return ExitUsage
}

func commandHelp(fs *flag.FlagSet, c Command) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(c.Usage, "\n"))
	b.WriteString("\n")
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			b.WriteString("\nFlags:\n")
			first = false
		}
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		if def := f.DefValue; def != "" && def != "false" && def != "0" {
			usage += " (default " + def + ")"
		}
		if len(line) <= 24 {
			fmt.Fprintf(&b, "%-24s %s\n", line, usage)
		} else {
			fmt.Fprintf(&b, "%s\n%24s %s\n", line, "", usage)
		}
	})
	return b.String()
}

// shellQuote quotes args for a command line the user can copy.
func shellQuote(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == '=' || r == ',' ||
				'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
