package uploader

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// The entry knows its uploader (alice). Signed in as bob, "history delete"
// must not drop it: Zipline's 404 for the DELETE means "not yours" here.
// deleteOnServer checks the account only when GET /api/user answers; when
// that one request fails (a 502 from the proxy while Zipline restarts, a
// timeout), the check is skipped, the DELETE's 404 is taken for "already
// gone", and the only local record of alice's live link is deleted.
func TestHistoryDeleteOtherAccountWhenAccountUnknown(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	h := uploadOneForHistory(t, f, e, "alice.png")
	if h.User == "" {
		t.Fatalf("setup: the history entry has no uploader: %+v", h)
	}

	f.signInAsAnother(t, "bob")

	// One failed answer, to the account question only (the next request
	// under /api/user is the DELETE, which goes through).
	f.srv.FailNext(1, ziplinetest.Failure{Path: "/api/user", Status: http.StatusBadGateway})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := e.DeleteHistory(ctx, h.ID)
	still := fileOnServer(f, h.FileID)
	hist, _ := e.History(0)
	if still && len(hist) == 0 {
		t.Errorf("signed in as bob, `history delete` of alice's upload %s (entry user %q) returned %v and deleted the history entry, "+
			"but the file is still on the server: one failed GET /api/user skipped the account check and the DELETE's 404 was taken for \"already gone\"",
			h.URL, h.User, err)
	}
}
