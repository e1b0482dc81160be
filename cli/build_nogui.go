//go:build nogui

package cli

// guiBuild reports whether this binary contains the desktop app.
const guiBuild = false
