//go:build !nogui

package main

import "github.com/zipline-tray/zipline-tray/cli"

const hasGUI = true

// runGUI starts the desktop app. TEMPORARY until app/ exists: the CLI help.
func runGUI(args []string) int { return cli.Main(append([]string{"--help"}, args...)) }
