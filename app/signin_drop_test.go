package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"

	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// A Zipline-generated .sxcu dropped on the sign-in window signs in with it
// and closes the window; anything else, or a v3 config, is explained in
// the window itself.
func TestSignInWindowTakesDroppedSXCU(t *testing.T) {
	srv := ziplinetest.New(t, ziplinetest.Config{})
	tok := srv.AddUser("alice", "hunter2", ziplinetest.RoleUser).Token()
	acct, store, _ := realAccount(t)
	h := newHarness(t, acct)
	s := h.ui.signIn
	if s == nil {
		t.Fatal("no sign-in window without credentials")
	}
	dir := t.TempDir()
	drop := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		s.dropped([]fyne.URI{storage.NewFileURI(p)})
	}

	drop("shot.png", "not a config")
	if !s.errLabel.Visible() || !strings.Contains(s.errLabel.Text, ".sxcu") {
		t.Errorf("dropping a PNG: error %q (visible %v)", s.errLabel.Text, s.errLabel.Visible())
	}

	drop("v3.sxcu", `{"Version":"14.1.0","RequestURL":"`+srv.URL+`/api/upload","Headers":{"Authorization":"abc.def","Format":"RANDOM"},"URL":"{json:files[0]}"}`)
	h.loop.until(t, "v3 refused in the window", func() bool { return strings.Contains(s.errLabel.Text, "v3") })
	if h.ui.signIn == nil {
		t.Fatal("the sign-in window closed after a refused config")
	}

	drop("zipline-file.sxcu", `{"Version":"17.0.0","RequestURL":"`+srv.URL+`/api/upload",`+
		`"Headers":{"authorization":"`+tok+`"},"URL":"{json:files[0].url}","Body":"MultipartFormData","FileFormName":"file"}`)
	h.loop.until(t, "signed in and the window closed", func() bool { return h.ui.signIn == nil && h.ui.user == "alice" })
	if got, err := store.Get(srv.URL, "alice"); err != nil || got != tok {
		t.Errorf("store holds %q, %v", got, err)
	}
}
