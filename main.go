// Command zipline-tray uploads screenshots and files to a Zipline server,
// from the system tray or the command line.
package main

import (
	"os"

	"github.com/zipline-tray/zipline-tray/cli"
	"github.com/zipline-tray/zipline-tray/internal/console"
)

func main() {
	args := os.Args[1:]
	// A command name, a flag or "help" goes to the CLI; no arguments (or
	// only file paths, as from "Open with") start the desktop app.
	// "--verbose" alone (or before file paths) is the desktop app's flag.
	gui := len(args) > 0 && args[0] == "--verbose"
	if !gui && cli.IsCommand(args) || !hasGUI {
		console.Attach() // the Windows exe is a GUI program: use the caller's console
		os.Exit(cli.Main(args))
	}
	os.Exit(runGUI(args))
}
