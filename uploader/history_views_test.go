package uploader

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// GET /raw/<name> counts as a view, and reaching maxViews deletes the file
// (spec §4.1). A "history delete" signed in to another account (the case
// a 404 from the API cannot tell from "gone") must not spend a view of a file it was told to
// keep: with max views 1 ("burn after reading") the person the link was
// sent to then finds it gone.
func TestHistoryDeleteSpendsNoView(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	cfg := f.config()
	cfg.Options = zipline.UploadOptions{MaxViews: 1}
	e := f.open(t, cfg)
	h := uploadOneForHistory(t, f, e, "once.png")

	f.signInAsAnother(t, "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	derr := e.DeleteHistory(ctx, h.ID)
	if derr == nil {
		t.Fatalf("DeleteHistory of another account's file succeeded")
	}

	// The recipient opens the link for the first time.
	resp, err := http.Get(h.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a file uploaded with max views 1 answered %s to its recipient's first view: "+
			"`history delete` from another account (refused: %v) must not have fetched %s, which counts as a view",
			resp.Status, derr, h.RawURL)
	}
}
