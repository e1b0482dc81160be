package app

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
)

func TestIsUploaderConfig(t *testing.T) {
	for p, want := range map[string]bool{
		"a.sxcu": true, "/x/B.SXCU": true, "c.iscu": true, "d.ITUP": true, "e.Itup": true,
		"f.png": false, "sxcu": false, "g.sxcu.png": false, "h.itu": false, "": false,
	} {
		if got := IsUploaderConfig(p); got != want {
			t.Errorf("IsUploaderConfig(%q) = %v", p, got)
		}
	}
}

// withImports records what goes to the importer instead of the real one.
func withImports(t *testing.T) *[]string {
	var got []string
	old := SXCUHandler
	SXCUHandler = func(_ *UI, path string) { got = append(got, path) }
	t.Cleanup(func() { SXCUHandler = old })
	return &got
}

// Every uploader config Zipline makes is imported, never queued for upload
// (it holds the token).
func TestDropZoneRoutesUploaderConfigs(t *testing.T) {
	imports := withImports(t)
	h := newHarness(t, signedIn())
	dir := t.TempDir()
	var uris []fyne.URI
	var paths []string
	for _, n := range []string{"z.sxcu", "z.ISCU", "z.itup", "shot.png"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, []byte("{}"), 0o600)
		uris, paths = append(uris, storage.NewFileURI(p)), append(paths, p)
	}
	h.ui.drop.dropped(uris)
	if !slices.Equal(*imports, paths[:3]) {
		t.Errorf("imported %q, want %q", *imports, paths[:3])
	}
	h.loop.until(t, "the picture queued", func() bool {
		enq, _, _, _ := h.engine.snapshot()
		return len(enq) == 1
	})
	if enq, _, _, _ := h.engine.snapshot(); enq[0] != paths[3] {
		t.Errorf("queued %q", enq)
	}
}

// ImportConfig (command line, "Open with") opens the drop zone and imports.
func TestImportConfigFromArgs(t *testing.T) {
	imports := withImports(t)
	h := newLazyHarness(t, signedIn())
	p := filepath.Join(t.TempDir(), "server.itup")
	h.ui.ImportConfig(p)
	h.loop.until(t, "the import", func() bool { return len(*imports) == 1 })
	if (*imports)[0] != p || h.ui.drop == nil {
		t.Errorf("imports %q, drop zone built: %v", *imports, h.ui.drop != nil)
	}
	if enq, _, _, _ := h.engine.snapshot(); len(enq) != 0 {
		t.Errorf("queued %q", enq)
	}
}
