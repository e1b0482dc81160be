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

// liveSettings guards the current Settings, with the options' part of an
// upload record key (made once, not for every upload).
type liveSettings struct {
	mu   sync.Mutex
	s    Settings
	opts string
}

func (l *liveSettings) get() Settings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

// getKeyed returns the settings and their options key.
func (l *liveSettings) getKeyed() (Settings, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s, l.opts
}

func (l *liveSettings) set(s Settings) {
	k := OptionsKey(s.Options)
	l.mu.Lock()
	l.s, l.opts = s, k
	l.mu.Unlock()
}

// SetSettings changes upload options, link format and link copying for
// uploads that start from now on; uploads already running keep theirs.
func (e *Engine) SetSettings(s Settings) error {
	if _, err := FormatLink(s.LinkFormat, "", "", ""); err != nil {
		return err
	}
	e.live.set(s)
	return nil
}

// Settings returns the settings in force.
func (e *Engine) Settings() Settings { return e.live.get() }
