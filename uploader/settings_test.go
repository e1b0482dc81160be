package uploader

import (
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// Settings changed while the engine runs apply to the next upload: its
// options reach the server, its link has the new format, and copying can
// be turned off.
func TestSetSettingsAppliesToNextUpload(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	r := recordEvents(t, e)

	p1, _ := f.write(t, "first.png", 100)
	e.Add(p1, AddOptions{})
	r.wait(t, 10*time.Second, "first upload", func(evs []Event) bool { return countType(evs, EventUploaded) == 1 })
	testutil.WaitFor(t, 5*time.Second, "first link on the clipboard", func() bool { return strings.HasPrefix(f.clip.get(), "http") })
	first := f.clip.get()

	if err := e.SetSettings(Settings{LinkFormat: "bogus"}); err == nil {
		t.Fatal("SetSettings accepted an unknown link format")
	}
	want := Settings{Options: zipline.UploadOptions{Format: "uuid"}, LinkFormat: "markdown", CopyLinks: false}
	if err := e.SetSettings(want); err != nil {
		t.Fatal(err)
	}
	p2, _ := f.write(t, "second.png", 100)
	e.Add(p2, AddOptions{})
	r.wait(t, 10*time.Second, "second upload", func(evs []Event) bool { return countType(evs, EventUploaded) == 2 })

	var link string
	for _, ev := range r.snapshot() {
		if ev.Type == EventUploaded && strings.HasSuffix(ev.Path, "second.png") {
			link = ev.Link
		}
	}
	if !strings.HasPrefix(link, "![second.png](") {
		t.Errorf("link of the second upload = %q, want Markdown", link)
	}
	var sawUUID bool
	for _, sf := range f.srv.Files() {
		if sf.Filename == "second.png" {
			sawUUID = sf.Options.Get("x-zipline-format") == "uuid"
		}
	}
	if !sawUUID {
		t.Error("the second upload did not carry x-zipline-format: uuid")
	}
	if got := f.clip.get(); got != first {
		t.Errorf("clipboard = %q after copying was turned off, want it unchanged (%q)", got, first)
	}
}
