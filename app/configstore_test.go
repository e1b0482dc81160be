package app

import (
	"path/filepath"
	"testing"

	"github.com/zipline-tray/zipline-tray/auth"
)

// TestConfigStoreKeepsTheAccount: saving the settings window's copy must
// not undo a sign-in made meanwhile (by the CLI or the sign-in window).
func TestConfigStoreKeepsTheAccount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	store := ConfigStore{Path: path}
	edited, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	// Meanwhile, someone signs in.
	if _, err := auth.UpdateConfig(path, func(c *auth.Config) error {
		c.Server, c.Username = "https://z.example.com", "alice"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	edited.Upload.Format = "uuid"
	edited.Watch.Folders = []auth.WatchFolder{{Path: "/tmp/shots", Recursive: true}}
	edited.Links.Format = auth.LinkRaw
	if err := store.Save(edited); err != nil {
		t.Fatal(err)
	}
	got, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "alice" || got.Server != "https://z.example.com" {
		t.Errorf("account lost: %q on %q", got.Username, got.Server)
	}
	if got.Upload.Format != "uuid" || len(got.Watch.Folders) != 1 || !got.Watch.Folders[0].Recursive || got.Links.Format != auth.LinkRaw {
		t.Errorf("settings not saved: %+v %+v %+v", got.Upload, got.Watch, got.Links)
	}
}
