package uploader

import (
	"sync"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// Settings are what a user may change while the engine runs: they apply
// to uploads that start afterwards.
type Settings struct {
	Options    zipline.UploadOptions
	LinkFormat string // url, raw, markdown, html
	CopyLinks  bool   // needs Config.Clipboard
}

// liveSettings guards the current Settings.
type liveSettings struct {
	mu sync.Mutex
	s  Settings
}

func (l *liveSettings) get() Settings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

// SetSettings changes upload options, link format and link copying for
// uploads that start from now on; uploads already running keep theirs.
func (e *Engine) SetSettings(s Settings) error {
	if _, err := FormatLink(s.LinkFormat, "", "", ""); err != nil {
		return err
	}
	e.live.mu.Lock()
	e.live.s = s
	e.live.mu.Unlock()
	return nil
}

// Settings returns the settings in force.
func (e *Engine) Settings() Settings { return e.live.get() }
