// Package assets holds zipline-tray's icons, drawn by cmd/genicons
// ("go run ./cmd/genicons" regenerates them).
package assets

import _ "embed"

// Icon is the 256 px application icon.
//
//go:embed icon.png
var Icon []byte

// Tray icons, 64 px, one per state.
var (
	//go:embed tray-idle.png
	TrayIdle []byte
	//go:embed tray-uploading.png
	TrayUploading []byte
	//go:embed tray-paused.png
	TrayPaused []byte
	//go:embed tray-signin.png
	TraySignIn []byte
)
