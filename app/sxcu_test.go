package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// A .sxcu dropped on the drop zone signs in with the real AuthAccount
// against the fake Zipline: the token lands in the store, the defaults in
// config.json, the UI shows the account, and SettingsChanged hands the
// engine the new defaults.
func TestDropSXCUImports(t *testing.T) {
	srv := ziplinetest.New(t, ziplinetest.Config{})
	tok := srv.AddUser("alice", "hunter2", ziplinetest.RoleUser).Token()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.json")
	store := auth.NewMemoryStore()
	acct := NewAuthAccount(cfgPath, store)
	var changed *auth.Config
	h := newHarness(t, acct, func(o *Options) {
		o.SettingsChanged = func(c *auth.Config) { changed = c }
	})

	sx := filepath.Join(dir, "zipline-file.sxcu")
	os.WriteFile(sx, []byte(`{"Version":"17.0.0","Name":"Zipline","RequestMethod":"POST","RequestURL":"`+srv.URL+`/api/upload",`+
		`"Headers":{"authorization":"`+tok+`","x-zipline-format":"uuid","x-zipline-max-views":"5"},"URL":"{json:files[0].url}","Body":"MultipartFormData","FileFormName":"file"}`), 0o600)
	h.ui.drop.dropped([]fyne.URI{storage.NewFileURI(sx)})
	h.loop.until(t, "import result", func() bool { return strings.HasPrefix(h.ui.drop.noteLabel.Text, "Imported ") })

	note := h.ui.drop.noteLabel.Text
	if !strings.Contains(note, "signed in as alice") || !strings.Contains(note, "name format uuid, max views 5") {
		t.Errorf("note = %q", note)
	}
	if strings.Contains(note, tok) {
		t.Error("the note shows the token")
	}
	if got, err := store.Get(srv.URL, "alice"); err != nil || got != tok {
		t.Errorf("store holds %q, %v", got, err)
	}
	cfg, err := auth.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Username != "alice" || cfg.Upload.Format != "uuid" || cfg.Upload.MaxViews != 5 {
		t.Errorf("saved config: user %q upload %+v", cfg.Username, cfg.Upload)
	}
	if h.ui.user != "alice" || h.ui.settings.Upload.Format != "uuid" {
		t.Errorf("UI state user=%q format=%q", h.ui.user, h.ui.settings.Upload.Format)
	}
	if changed == nil || changed.Upload.MaxViews != 5 {
		t.Errorf("SettingsChanged got %+v", changed)
	}
	if enq, _, _, _ := h.engine.snapshot(); len(enq) != 0 {
		t.Errorf("the .sxcu was queued for upload: %q", enq)
	}
}

func TestDropSXCURefused(t *testing.T) {
	srv := ziplinetest.New(t, ziplinetest.Config{})
	srv.AddUser("alice", "hunter2", ziplinetest.RoleUser)
	dir := t.TempDir()
	store := auth.NewMemoryStore()
	h := newHarness(t, NewAuthAccount(filepath.Join(dir, "config.json"), store))
	cases := map[string]struct{ body, want string }{
		"v3.sxcu":    {`{"Version":"14.1.0","RequestURL":"` + srv.URL + `/api/upload","Headers":{"Authorization":"abc.def","Format":"RANDOM"},"URL":"{json:files[0]}"}`, "is a Zipline v3 config"},
		"imgur.sxcu": {`{"Name":"Imgur","RequestURL":"https://api.imgur.com/3/image","Headers":{"Authorization":"Client-ID x"},"URL":"{json:data.link}"}`, "is not a ShareX configuration made by Zipline"},
		"bad.sxcu":   {`{"RequestURL":"` + srv.URL + `/api/upload","Headers":{"authorization":"bm90LWEtdG9rZW4uYWJj"}}`, "Could not import bad.sxcu"},
	}
	for name, c := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(c.body), 0o600)
		h.ui.drop.dropped([]fyne.URI{storage.NewFileURI(p)})
		h.loop.until(t, name, func() bool {
			return h.ui.drop.noteLabel.Text != "" && !strings.HasPrefix(h.ui.drop.noteLabel.Text, "Importing")
		})
		if got := h.ui.drop.noteLabel.Text; !strings.Contains(got, c.want) {
			t.Errorf("%s: note = %q, want %q", name, got, c.want)
		}
		h.ui.drop.noteLabel.SetText("")
	}
	if store.Len() != 0 {
		t.Errorf("%d tokens stored", store.Len())
	}
}
