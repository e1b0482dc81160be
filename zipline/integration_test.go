package zipline_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// TestEndpoints runs every endpoint the client has against each version.
func TestEndpoints(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv, c, tok := fake(t, ziplinetest.Config{Version: v})
			ctx := ctxT(t)

			info, err := c.Probe(ctx)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			want := zipline.Limits{MaxFileSize: 100 << 20, ChunksEnabled: true, ChunkSize: 25 << 20, ChunkMin: 95 << 20, DefaultFormat: "random"}
			if l := info.Limits; l.MaxFileSize != want.MaxFileSize || l.ChunkSize != want.ChunkSize || l.ChunkMin != want.ChunkMin || !l.ChunksEnabled {
				t.Errorf("limits %+v, want %+v", l, want)
			}
			if info.Version == "" {
				t.Error("Probe gave no version")
			}

			me, err := c.User(ctx)
			if err != nil || me.Username != "admin" || me.Role != "ADMIN" || me.TOTP {
				t.Fatalf("User = %+v, %v", me, err)
			}

			// One real file, with a name that needs encoding.
			p := writeFile(t, "shot 1 ü%.png", pngBytes)
			up, err := zipline.FileUpload(p)
			if err != nil {
				t.Fatal(err)
			}
			if up.ContentType != "image/png" || up.Size != int64(len(pngBytes)) {
				t.Fatalf("FileUpload = %+v", up)
			}
			var lastSent int64
			f, err := c.Upload(ctx, up, zipline.UploadOptions{OriginalName: true, MaxViews: 5, DeletesAt: "1d"}, func(sent, total int64) { lastSent = sent })
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if lastSent != int64(len(pngBytes)) {
				t.Errorf("progress ended at %d", lastSent)
			}
			if f.ID == "" || !strings.HasPrefix(f.URL, srv.URL+"/u/") || f.Type != "image/png" {
				t.Errorf("upload reply %+v", f)
			}
			if f.DeletesAt == "" {
				t.Errorf("upload reply has no deletesAt despite an expiry: %+v", f)
			}
			got := srv.Files()[0]
			if got.SHA256 != sha(pngBytes) || got.Type != "image/png" || got.Filename != "shot 1 ü%.png" || got.OriginalName != "shot 1 ü%.png" || got.MaxViews != 5 {
				t.Errorf("server stored %+v", got)
			}
			if got.Options.Get("X-Zipline-Original-Name") != "true" {
				t.Errorf("original-name header %q", got.Options.Get("X-Zipline-Original-Name"))
			}

			// Several files in one request.
			many, err := c.UploadMany(ctx, []zipline.Upload{
				{Name: "a.txt", Size: 5, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("hello")), nil }},
				{Name: "noext", Size: 8, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("%PDF-1.4")), nil }},
			}, zipline.UploadOptions{}, nil)
			if err != nil || len(many) != 2 {
				t.Fatalf("UploadMany = %+v, %v", many, err)
			}
			if a := fileNamed(t, srv, many[0].Name); a.Type != "text/plain" || a.SHA256 != sha([]byte("hello")) {
				t.Errorf("a.txt stored as %+v", a)
			}
			if b := fileNamed(t, srv, many[1].Name); b.Type != "application/pdf" {
				t.Errorf("sniffed type %q, want application/pdf", b.Type)
			}

			recent, err := c.Recent(ctx, 10)
			if err != nil || len(recent) != 3 {
				t.Fatalf("Recent = %+v, %v", recent, err)
			}
			for _, r := range recent {
				if !strings.HasPrefix(r.URL, srv.URL+"/") || r.CreatedAt.IsZero() {
					t.Errorf("recent file %+v", r)
				}
			}

			one, err := c.File(ctx, f.ID)
			if err != nil || one.ID != f.ID || one.Size != int64(len(pngBytes)) || one.Name != f.Name {
				t.Fatalf("File = %+v, %v", one, err)
			}

			folder, err := srv.AddFolder("admin", "Screens", ziplinetest.FolderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			folders, err := c.Folders(ctx)
			if err != nil || len(folders) != 1 || folders[0].ID != folder.ID || folders[0].Name != "Screens" {
				t.Fatalf("Folders = %+v, %v", folders, err)
			}
			in, err := c.Upload(ctx, zipline.Upload{Name: "x.png", Size: int64(len(pngBytes)), Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(pngBytes))), nil }},
				zipline.UploadOptions{Folder: folder.ID, Format: "uuid"}, nil)
			if err != nil {
				t.Fatalf("upload into folder: %v", err)
			}
			if s := fileNamed(t, srv, in.Name); s.FolderID != folder.ID {
				t.Errorf("file in folder %q, want %q", s.FolderID, folder.ID)
			}

			short, err := c.Shorten(ctx, "https://example.com/a?b=c", zipline.ShortenOptions{Vanity: "ex-" + strings.ReplaceAll(v, ".", "")})
			if err != nil || short.Destination != "https://example.com/a?b=c" || !strings.Contains(short.URL, "/go/ex-") {
				t.Fatalf("Shorten = %+v, %v", short, err)
			}

			del, err := c.DeleteFile(ctx, f.ID)
			if err != nil || del.ID != f.ID {
				t.Fatalf("DeleteFile = %+v, %v", del, err)
			}
			_, err = c.File(ctx, f.ID)
			wantIs(t, err, zipline.ErrNotFound)
			_, err = c.DeleteFile(ctx, f.ID)
			wantIs(t, err, zipline.ErrNotFound)
			noSecret(t, err, tok)

			// Every request: our User-Agent, a bare token, and no JSON
			// content type without a body.
			for _, r := range srv.Requests() {
				if ua := r.Header.Get("User-Agent"); ua != "zipline-tray/"+zipline.Version {
					t.Errorf("%s %s: User-Agent %q", r.Method, r.Path, ua)
				}
				if a := r.Header.Get("Authorization"); a != "" && a != tok {
					t.Errorf("%s %s: Authorization %q", r.Method, r.Path, a)
				}
				if r.BodyBytes == 0 && r.Header.Get("Content-Type") != "" {
					t.Errorf("%s %s: Content-Type %q without a body", r.Method, r.Path, r.Header.Get("Content-Type"))
				}
				if r.Path == "/api/user/folders" && r.Query != "noincl=true" {
					t.Errorf("folders query %q", r.Query)
				}
				if r.Path == "/api/upload" && r.Header.Get("Content-Length") == "" {
					t.Errorf("upload without Content-Length")
				}
			}
		})
	}
}

// TestLogin covers the password flow with TOTP, the token exchange and the
// logout, against each version's error shapes.
func TestLogin(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv := ziplinetest.NewServer(ziplinetest.Config{Version: v})
			defer srv.Close()
			u := srv.AddUser("alice", "correct horse", ziplinetest.RoleUser)
			ctx := ctxT(t)
			c, err := zipline.NewClient(zipline.Options{Server: srv.URL})
			if err != nil {
				t.Fatal(err)
			}

			_, err = c.Login(ctx, "alice", "Wr0ng-Pa55", "")
			wantIs(t, err, zipline.ErrInvalidCredentials)
			noSecret(t, err, "Wr0ng-Pa55")
			_, err = c.Login(ctx, "nobody", "wrong", "")
			wantIs(t, err, zipline.ErrInvalidCredentials)

			s, err := c.Login(ctx, "alice", "correct horse", "")
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if s.User().Username != "alice" || s.User().TOTP {
				t.Errorf("session user %+v", s.User())
			}
			tok, err := s.APIToken(ctx)
			if err != nil {
				t.Fatalf("APIToken: %v", err)
			}
			if tok == u.RawSecret() {
				t.Fatal("APIToken returned the raw DB secret of the login reply")
			}
			if me, err := c.WithToken(tok).User(ctx); err != nil || me.Username != "alice" {
				t.Fatalf("User with the new token = %+v, %v", me, err)
			}
			if n := srv.Sessions("alice"); n != 1 {
				t.Errorf("%d sessions before logout", n)
			}
			if err := s.Logout(ctx); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			if n := srv.Sessions("alice"); n != 0 {
				t.Errorf("%d sessions after logout", n)
			}
			if _, err := c.WithToken(tok).User(ctx); err != nil {
				t.Errorf("token died with the session: %v", err)
			}
			// Login/logout carried no Authorization and the logout was a GET
			// with the cookie.
			for _, r := range srv.Requests() {
				if strings.HasPrefix(r.Path, "/api/auth/") && r.Header.Get("Authorization") != "" {
					t.Errorf("%s %s carried Authorization", r.Method, r.Path)
				}
				if r.Path == "/api/auth/logout" && (r.Method != "GET" || !strings.Contains(r.Header.Get("Cookie"), "zipline_session=")) {
					t.Errorf("logout: %s, cookie %q", r.Method, r.Header.Get("Cookie"))
				}
			}

			// Two-factor.
			totp, err := srv.EnableTOTP("alice")
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Login(ctx, "alice", "correct horse", "")
			wantIs(t, err, zipline.ErrTOTPRequired)
			_, err = c.Login(ctx, "alice", "correct horse", "000000x")
			wantIs(t, err, zipline.ErrInvalidTOTP)
			noSecret(t, err, "correct horse", "000000x")
			s, err = c.Login(ctx, "alice", "correct horse", totp.Code())
			if err != nil {
				t.Fatalf("Login with code: %v", err)
			}
			if !s.User().TOTP {
				t.Error("User.TOTP false for a 2FA account")
			}
			if _, err := s.APIToken(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLoginRateLimit: a login right after another gets 429; the client
// waits out Retry-After and retries once.
func TestLoginRateLimit(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{Version: "4.6"})
	defer srv.Close()
	srv.AddUser("bob", "pw-bob", ziplinetest.RoleUser)
	ctx := ctxT(t)
	// Someone else (another client, same IP) just logged in.
	resp, err := http.Post(srv.URL+"/api/auth/login", "application/json", strings.NewReader(`{"username":"bob","password":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c, _ := zipline.NewClient(zipline.Options{Server: srv.URL})
	s, err := c.Login(ctx, "bob", "pw-bob", "")
	if err != nil {
		t.Fatalf("Login after a 429: %v", err)
	}
	if s.User().Username != "bob" {
		t.Fatal(s.User())
	}
	var statuses []int
	for _, r := range srv.Requests() {
		if r.Path == "/api/auth/login" {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) != 3 || statuses[1] != 429 || statuses[2] != 200 {
		t.Errorf("login statuses %v, want [400 429 200]", statuses)
	}
}

// TestTokenReset: a dead token is ErrUnauthorized everywhere, and never
// shows up in the message.
func TestTokenReset(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv, c, tok := fake(t, ziplinetest.Config{Version: v})
			ctx := ctxT(t)
			if err := srv.ResetToken("admin"); err != nil {
				t.Fatal(err)
			}
			_, err := c.User(ctx)
			wantIs(t, err, zipline.ErrUnauthorized)
			noSecret(t, err, tok)
			_, err = c.Upload(ctx, zipline.Upload{Name: "a.txt", Size: 1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }}, zipline.UploadOptions{}, nil)
			wantIs(t, err, zipline.ErrUnauthorized)
			noSecret(t, err, tok)
			if zipline.Retryable(err) {
				t.Error("401 reported as retryable")
			}
			_, err = c.Upload(ctx, prngUpload("big.bin", 1, 96<<20), zipline.UploadOptions{}, nil)
			wantIs(t, err, zipline.ErrUnauthorized)
			var ae *zipline.APIError
			if !errors.As(err, &ae) || ae.Status != 401 {
				t.Errorf("chunked 401: %#v", err)
			}
		})
	}
}

// TestUploadRateLimit: a plain user's 429 carries Retry-After.
func TestUploadRateLimit(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv := ziplinetest.NewServer(ziplinetest.Config{Version: v, UploadRateLimit: ziplinetest.RateLimit{Max: 1, Window: time.Minute}})
			defer srv.Close()
			tok := srv.AddUser("u", "pw", ziplinetest.RoleUser).Token()
			c, _ := zipline.NewClient(zipline.Options{Server: srv.URL, Token: tok})
			ctx := ctxT(t)
			up := zipline.Upload{Name: "a.txt", Size: 1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }}
			if _, err := c.Upload(ctx, up, zipline.UploadOptions{}, nil); err != nil {
				t.Fatal(err)
			}
			_, err := c.Upload(ctx, up, zipline.UploadOptions{}, nil)
			wantIs(t, err, zipline.ErrRateLimited)
			noSecret(t, err, tok)
			var ae *zipline.APIError
			if !errors.As(err, &ae) || ae.RetryAfter <= 0 || ae.RetryAfter > time.Minute {
				t.Fatalf("RetryAfter of %#v", err)
			}
			if !zipline.Retryable(err) {
				t.Error("429 not retryable")
			}
		})
	}
}

// TestProxy413: an nginx HTML 413 becomes a short ErrTooLarge. With a big
// body the proxy answers before the body is sent (100-continue); without
// that, the early close would often look like a retryable reset.
func TestProxy413(t *testing.T) {
	srv, c, tok := fake(t, ziplinetest.Config{Version: "4.6", HashOnly: true})
	srv.SetProxyLimit(1 << 20)
	for _, size := range []int64{2 << 20, 60 << 20, 60 << 20, 60 << 20} {
		_, err := c.Upload(ctxT(t), prngUpload("video.mp4", 2, size), zipline.UploadOptions{}, nil)
		wantIs(t, err, zipline.ErrTooLarge)
		noSecret(t, err, tok)
		if zipline.Retryable(err) {
			t.Error("413 retryable")
		}
		msg := err.Error()
		if !strings.Contains(msg, "413 Request Entity Too Large") || !strings.Contains(msg, "proxy") || strings.Contains(msg, "<") || len(msg) > 300 {
			t.Errorf("413 message: %q", msg)
		}
	}
	for _, r := range srv.Requests() {
		if r.Path == "/api/upload" && (r.Status != 413 || r.BodyBytes > 1<<20) {
			t.Errorf("upload answered %d after %d body bytes", r.Status, r.BodyBytes)
		}
	}
}

// TestQuota: E5002 is ErrQuota, not ErrTooLarge.
func TestQuota(t *testing.T) {
	srv, c, tok := fake(t, ziplinetest.Config{Version: "4.6"})
	if err := srv.SetQuota("admin", &ziplinetest.Quota{MaxFiles: 1}); err != nil {
		t.Fatal(err)
	}
	up := zipline.Upload{Name: "a.txt", Size: 1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }}
	if _, err := c.Upload(ctxT(t), up, zipline.UploadOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.Upload(ctxT(t), up, zipline.UploadOptions{}, nil)
	wantIs(t, err, zipline.ErrQuota)
	if errors.Is(err, zipline.ErrTooLarge) {
		t.Error("quota error also matches ErrTooLarge")
	}
	noSecret(t, err, tok)
}

// TestDroppedConnection: a connection lost mid-body is a retryable error,
// and the next try goes through.
func TestDroppedConnection(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv, c, tok := fake(t, ziplinetest.Config{Version: v})
			ctx := ctxT(t)
			srv.DropNext(1, "/api/upload", 64<<10)
			up := prngUpload("a.bin", 3, 1<<20)
			_, err := c.Upload(ctx, up, zipline.UploadOptions{}, nil)
			if err == nil {
				t.Fatal("upload over a dropped connection succeeded")
			}
			noSecret(t, err, tok)
			if !zipline.Retryable(err) {
				t.Errorf("dropped connection not retryable: %v", err)
			}
			f, err := c.Upload(ctx, up, zipline.UploadOptions{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := fileNamed(t, srv, f.Name); got.SHA256 != prngSHA(3, 1<<20) {
				t.Error("bytes differ after the retry")
			}
			// The same in the middle of a chunked upload.
			srv.DropNext(1, "/api/upload/partial", 1<<20)
			big := prngUpload("big.bin", 4, 96<<20)
			_, err = c.Upload(ctx, big, zipline.UploadOptions{}, nil)
			if err == nil || !zipline.Retryable(err) {
				t.Fatalf("chunked upload over a dropped connection: %v", err)
			}
			noSecret(t, err, tok)
		})
	}
}

// TestServerErrors: 5xx (JSON or a proxy's HTML) are ErrServer and retryable.
func TestServerErrors(t *testing.T) {
	srv, c, tok := fake(t, ziplinetest.Config{Version: "4.6"})
	ctx := ctxT(t)
	srv.FailNext(1, ziplinetest.Failure{Path: "/api/user", Status: 502, HTML: true})
	_, err := c.User(ctx)
	wantIs(t, err, zipline.ErrServer)
	noSecret(t, err, tok)
	if !zipline.Retryable(err) || !strings.Contains(err.Error(), "502") {
		t.Errorf("502: %v", err)
	}
	srv.FailNext(1, ziplinetest.Failure{Path: "/api/upload", Status: 503})
	_, err = c.Upload(ctx, zipline.Upload{Name: "a.txt", Size: 1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }}, zipline.UploadOptions{}, nil)
	wantIs(t, err, zipline.ErrServer)
	srv.Down()
	_, err = c.User(ctx)
	if err == nil || !zipline.Retryable(err) {
		t.Errorf("server down: %v", err)
	}
	noSecret(t, err, tok)
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.User(ctx); err != nil {
		t.Errorf("after Up: %v", err)
	}
}

// TestBadOptions: the server's E1001 is ErrBadRequest with its reason.
func TestBadOptions(t *testing.T) {
	_, c, tok := fake(t, ziplinetest.Config{Version: "4.6"})
	_, err := c.Upload(ctxT(t), zipline.Upload{Name: "a.txt", Size: 1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }},
		zipline.UploadOptions{DeletesAt: "yesterday-ish"}, nil)
	wantIs(t, err, zipline.ErrBadRequest)
	noSecret(t, err, tok)
	if !strings.Contains(err.Error(), "deletes-at") {
		t.Errorf("message lacks the header name: %v", err)
	}
	if zipline.Retryable(err) {
		t.Error("400 retryable")
	}
}

// TestTooLargeClientSide: a file over maxFileSize fails before a byte goes out.
func TestTooLargeClientSide(t *testing.T) {
	srv, c, _ := fake(t, ziplinetest.Config{Version: "4.6"})
	_, err := c.Upload(ctxT(t), prngUpload("huge.mkv", 5, 150<<20), zipline.UploadOptions{}, nil)
	wantIs(t, err, zipline.ErrTooLarge)
	if msg := err.Error(); !strings.Contains(msg, "150.0 MiB") || !strings.Contains(msg, "100.0 MiB") || !strings.Contains(msg, "huge.mkv") {
		t.Errorf("message %q", msg)
	}
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/api/upload") {
			t.Errorf("sent %s %s", r.Method, r.Path)
		}
	}
}

// TestCancel: cancelling the context stops an upload promptly.
func TestCancel(t *testing.T) {
	srv, c, _ := fake(t, ziplinetest.Config{Version: "4.6", HashOnly: true})
	srv.SetDelay("/api/upload", time.Minute)
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() {
		_, err := c.Upload(ctx, prngUpload("a.bin", 6, 1<<20), zipline.UploadOptions{}, nil)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled upload: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("upload did not stop after cancel")
	}
}
