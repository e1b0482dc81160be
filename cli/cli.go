// Package cli implements zipline-tray's command-line interface.
package cli

import (
	"fmt"
	"os"
)

// IsCommand reports whether args name a CLI command (or a flag such as
// --help) rather than files for the desktop app.
func IsCommand(args []string) bool {
	return len(args) > 0 && (args[0] == "help" || len(args[0]) > 0 && args[0][0] == '-')
}

// Main runs the CLI and returns the exit code. TEMPORARY skeleton.
func Main(args []string) int {
	fmt.Fprintln(os.Stderr, "usage: zipline-tray COMMAND [flags]")
	return 2
}
