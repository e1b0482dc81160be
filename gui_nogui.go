//go:build nogui

package main

// Built with -tags nogui: a CLI-only binary with no GUI toolkit and no cgo.
const hasGUI = false

func runGUI([]string) int { return 2 }
