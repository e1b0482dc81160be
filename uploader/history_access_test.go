package uploader

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// A Zipline behind Cloudflare Access (the reason Options.Headers exists):
// requests without the service-token headers get Access's answer (a 302
// to its login page, or a 403). A file already deleted on the web page
// (or expired) must still be removable from the history: the server says
// 404, and nothing may ask the link itself (without Access's headers) and
// take Access's answer for "still there".
func TestHistoryDeleteBehindAccessHeaders(t *testing.T) {
	for _, mode := range []string{"302 to the Access login", "403"} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t, ziplinetest.RoleAdmin)
			target, _ := url.Parse(f.srv.URL)
			rp := httputil.NewSingleHostReverseProxy(target)
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Cf-Access-Client-Secret") != "svc-secret" {
					if mode == "403" {
						http.Error(w, "Forbidden", http.StatusForbidden)
						return
					}
					http.Redirect(w, r, "https://team.cloudflareaccess.com/cdn-cgi/access/login/x", http.StatusFound)
					return
				}
				rp.ServeHTTP(w, r)
			}))
			t.Cleanup(proxy.Close)
			c, err := zipline.NewClient(zipline.Options{Server: proxy.URL, Token: f.creds.token,
				Headers: map[string]string{"Cf-Access-Client-Id": "svc-id", "Cf-Access-Client-Secret": "svc-secret"}})
			if err != nil {
				t.Fatal(err)
			}
			f.creds.mu.Lock()
			f.creds.client = c
			f.creds.mu.Unlock()

			e := f.open(t, f.config())
			h := uploadOneForHistory(t, f, e, "old.png")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// Deleted meanwhile on Zipline's web page (or it expired).
			if _, err := c.DeleteFile(ctx, h.FileID); err != nil {
				t.Fatal(err)
			}
			if fileOnServer(f, h.FileID) {
				t.Fatal("setup: file still on the server")
			}
			err = e.DeleteHistory(ctx, h.ID)
			hist, _ := e.History(0)
			if err != nil || len(hist) != 0 {
				t.Errorf("the file %s is gone from the server (deleted on the web page); `history delete %d` behind Cloudflare Access "+
					"(Options.Headers) fails: %v; history still has %d entries", h.URL, h.ID, err, len(hist))
			}
		})
	}
}
