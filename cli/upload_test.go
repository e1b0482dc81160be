package cli

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/internal/clipboard"
	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// signedIn is a fake server with user alice (password "hunter2") and a test
// Env whose settings and token store say alice is signed in.
type signedIn struct {
	*testEnv
	srv   *ziplinetest.Server
	user  *ziplinetest.User
	token string
}

func newSignedIn(t *testing.T, cfg ziplinetest.Config, role ziplinetest.Role) *signedIn {
	t.Helper()
	srv := ziplinetest.NewServer(cfg)
	t.Cleanup(srv.Close)
	u := srv.AddUser("alice", "hunter2", role)
	s := &signedIn{testEnv: newTestEnv(t, "", nil), srv: srv, user: u, token: u.Token()}
	c := auth.Defaults()
	c.Server, c.Username = srv.URL, "alice"
	if err := c.Save(s.Paths.ConfigFile()); err != nil {
		t.Fatal(err)
	}
	if err := s.store.Set(srv.URL, "alice", s.token); err != nil {
		t.Fatal(err)
	}
	return s
}

// writeFiles makes n files of the given sizes with random content and
// returns their paths.
func writeFiles(t *testing.T, sizes ...int) []string {
	t.Helper()
	dir := t.TempDir()
	paths := make([]string, len(sizes))
	for i, n := range sizes {
		b := make([]byte, n)
		crand.Read(b)
		paths[i] = filepath.Join(dir, fmt.Sprintf("file%d.bin", i))
		if err := os.WriteFile(paths[i], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

func sha(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// checkLinks asserts that stdout holds one link per path, in order, each
// pointing at a stored file with that path's content.
func checkLinks(t *testing.T, srv *ziplinetest.Server, stdout string, paths []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if stdout == "" {
		lines = nil
	}
	if len(lines) != len(paths) {
		t.Fatalf("stdout has %d lines, want %d:\n%s", len(lines), len(paths), stdout)
	}
	byURL := map[string]ziplinetest.File{}
	for _, f := range srv.Files() {
		byURL[f.URL] = f
	}
	for i, p := range paths {
		f, ok := byURL[lines[i]]
		if !ok {
			t.Errorf("line %d %q is not the URL of a stored file", i+1, lines[i])
			continue
		}
		if f.SHA256 != sha(t, p) {
			t.Errorf("line %d links to %s (%s), which is not the content of %s", i+1, f.Name, f.Filename, p)
		}
	}
}

func TestUploadPrintsLinksInArgumentOrder(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	paths := writeFiles(t, 3<<20, 10, 2000, 1, 50_000)
	// The first file's upload is held back (in the Recorder) until every
	// other file is done, so they finish first; nothing may be printed
	// before the first link, and the links must follow the arguments.
	out := &testutil.Buffer{}
	s.Stdout = out
	first, _ := filepath.Abs(paths[0])
	rec := &memRecorder{hold: first, release: make(chan struct{}), others: len(paths) - 1, out: out}
	s.Recorder = rec
	code := s.run(append([]string{"upload"}, paths...)...)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, s.err)
	}
	if s.err.Len() != 0 {
		t.Errorf("stderr not empty: %s", s.err)
	}
	if rec.printedEarly != "" {
		t.Errorf("printed before the first file was done: %q", rec.printedEarly)
	}
	if !rec.held {
		t.Error("the first file was not held back: the test did not exercise reordering")
	}
	checkLinks(t, s.srv, out.String(), paths)
	if len(rec.records) != len(paths) || rec.records[len(paths)-1].path != first {
		t.Errorf("records %+v: want %d, the first file last", rec.records, len(paths))
	}
	for _, r := range rec.records {
		if !filepath.IsAbs(r.path) || r.url == "" || r.fileID == "" || r.size <= 0 {
			t.Errorf("record %+v", r)
		}
	}
	// The token went only into the Authorization header, bare.
	for _, r := range s.srv.Requests() {
		if r.Path == "/api/upload" && r.Header.Get("Authorization") != s.token {
			t.Errorf("upload request Authorization = %q", r.Header.Get("Authorization"))
		}
	}
}

type record struct {
	path, url, fileID string
	size              int64
}

// memRecorder records uploads in the order they finish. If hold is set,
// recording that path waits until the others have been recorded.
type memRecorder struct {
	hold    string
	release chan struct{}
	others  int
	out     *testutil.Buffer

	mu           sync.Mutex
	records      []record
	held         bool
	printedEarly string
}

func (m *memRecorder) Record(path, url, fileID string, size int64) error {
	if m.hold != "" && path == m.hold {
		select {
		case <-m.release:
			m.mu.Lock()
			m.held = true
			m.mu.Unlock()
		case <-time.After(10 * time.Second):
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, record{path, url, fileID, size})
	if m.hold != "" && path != m.hold {
		m.others--
		if m.others == 0 {
			m.printedEarly = m.out.String()
			close(m.release)
		}
	}
	return nil
}

func TestUploadFailuresKeepOrderAndGoOn(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	ok := writeFiles(t, 100, 200)
	dir := t.TempDir()
	missing := filepath.Join(dir, "gone.png")
	code := s.run("upload", ok[0], missing, dir, ok[1])
	if code != ExitFailure {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFailure, s.err)
	}
	checkLinks(t, s.srv, s.out.String(), ok)
	wantErr := missing + ": no such file\n" + dir + ": is a folder; upload the files in it instead"
	if !strings.HasPrefix(s.err.String(), wantErr) {
		t.Errorf("stderr = %q, want it to start with %q", s.err, wantErr)
	}
}

func TestUploadRejectedTokenStops(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	if err := s.srv.ResetToken("alice"); err != nil {
		t.Fatal(err)
	}
	paths := writeFiles(t, 10, 10, 10, 10, 10)
	code := s.run(append([]string{"upload"}, paths...)...)
	if code != ExitSignIn {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitSignIn, s.err)
	}
	if s.out.Len() != 0 {
		t.Errorf("stdout = %q", s.out)
	}
	if !strings.Contains(s.err.String(), "zipline-tray login") {
		t.Errorf("stderr does not say how to sign in again: %s", s.err)
	}
	if strings.Contains(s.err.String(), s.token) {
		t.Error("stderr contains the token")
	}
	// The run stopped: not every file was tried.
	n := 0
	for _, r := range s.srv.Requests() {
		if r.Path == "/api/upload" {
			n++
		}
	}
	if n >= len(paths) {
		t.Errorf("%d upload requests after a 401, want the run to stop", n)
	}
	// Every file is accounted for on stderr, in order.
	lines := strings.Split(strings.TrimSpace(s.err.String()), "\n")
	for i, p := range paths {
		if i >= len(lines) || !strings.HasPrefix(lines[i], p+": ") {
			t.Errorf("stderr line %d = %q, want it about %s", i+1, lines[min(i, len(lines)-1)], p)
		}
	}
}

func TestUploadServerErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ziplinetest.Config
		arm  func(*ziplinetest.Server)
		want string
	}{
		{"502", ziplinetest.Config{}, func(s *ziplinetest.Server) {
			s.FailNext(1, ziplinetest.Failure{Path: "/api/upload", Status: 502, HTML: true})
		}, "the server failed (HTTP 502)"},
		{"500", ziplinetest.Config{}, func(s *ziplinetest.Server) {
			s.FailNext(1, ziplinetest.Failure{Path: "/api/upload", Status: 500})
		}, "the server failed (HTTP 500)"},
		{"403", ziplinetest.Config{}, func(s *ziplinetest.Server) {
			s.FailNext(1, ziplinetest.Failure{Path: "/api/upload", Status: 403})
		}, "the server does not allow this"},
		{"413 proxy", ziplinetest.Config{}, func(s *ziplinetest.Server) { s.SetProxyLimit(1000) }, "too large for this server"},
		{"over maxFileSize", ziplinetest.Config{MaxFileSize: 4096}, nil, "too large for this server: the file is 4.9 KiB, the server takes at most 4.0 KiB"},
		{"quota", ziplinetest.Config{}, func(s *ziplinetest.Server) {
			s.SetQuota("alice", &ziplinetest.Quota{MaxFiles: 0, MaxBytes: 100})
		}, "your storage quota is full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSignedIn(t, tc.cfg, ziplinetest.RoleAdmin)
			if tc.arm != nil {
				tc.arm(s.srv)
			}
			paths := writeFiles(t, 5000)
			code := s.run("upload", paths[0])
			if code != ExitFailure {
				t.Fatalf("exit %d, want 1; stderr %s", code, s.err)
			}
			if want := paths[0] + ": "; !strings.HasPrefix(s.err.String(), want) || !strings.Contains(s.err.String(), tc.want) {
				t.Errorf("stderr = %q, want %q...%q", s.err, want, tc.want)
			}
			if s.out.Len() != 0 {
				t.Errorf("stdout = %q", s.out)
			}
		})
	}
}

func TestUploadWaitsOutRateLimit(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{UploadRateLimit: ziplinetest.RateLimit{Max: 1, Window: 2 * time.Second}}, ziplinetest.RoleUser)
	paths := writeFiles(t, 10, 20)
	code := s.run(append([]string{"upload"}, paths...)...)
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, s.err)
	}
	checkLinks(t, s.srv, s.out.String(), paths)
	if !strings.Contains(s.err.String(), "rate limit") {
		t.Errorf("stderr does not mention the wait: %q", s.err)
	}
}

func TestUploadOptionsReachServer(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	folder, err := s.srv.AddFolder("alice", "Screenshots", ziplinetest.FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("s3cret\nignored\n"), 0o600)
	paths := writeFiles(t, 100)
	rec := &detailRecorder{}
	s.Recorder = rec
	code := s.run("upload", "--format", "uuid", "--expires", "1d", "--max-views", "5", "--password-file", pw,
		"--folder", "screenshots", "--original-name", "--domain", "i.example.com", "--copy", paths[0])
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, s.err)
	}
	files := s.srv.Files()
	if len(files) != 1 {
		t.Fatalf("%d files stored", len(files))
	}
	f := files[0]
	h := f.Options
	for k, want := range map[string]string{
		"X-Zipline-Format": "uuid", "X-Zipline-Deletes-At": "1d", "X-Zipline-Max-Views": "5",
		"X-Zipline-Original-Name": "true", "X-Zipline-Domain": "i.example.com", "X-Zipline-Folder": folder.ID,
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if f.FolderID != folder.ID || f.MaxViews != 5 || f.Password == "" {
		t.Errorf("stored file %+v", f)
	}
	if strings.Contains(f.Password, "ignored") {
		t.Errorf("password took more than the first line")
	}
	if got := strings.TrimSpace(s.out.String()); len(s.copied) != 1 || s.copied[0] != got {
		t.Errorf("copied %q, printed %q", s.copied, got)
	}
	// The detailed recorder gets the whole story (the password too, so it
	// can tell a protected upload from an open one).
	if len(rec.got) != 1 {
		t.Fatalf("RecordUpload called %d times", len(rec.got))
	}
	r := rec.got[0]
	abs, _ := filepath.Abs(paths[0])
	if r.Path != abs || r.URL != f.URL || r.FileID != f.ID || r.Name != f.Name || r.Server != s.srv.URL || r.Size != 100 ||
		r.Options.Format != "uuid" || r.Options.Folder != folder.ID || r.Options.Password != "s3cret" || r.DeletesAt == "" || r.Time.IsZero() {
		t.Errorf("recorded %+v", r)
	}
}

type detailRecorder struct {
	mu  sync.Mutex
	got []Uploaded
}

func (d *detailRecorder) Record(string, string, string, int64) error {
	panic("Record called on an UploadRecorder")
}

func (d *detailRecorder) RecordUpload(_ context.Context, u Uploaded) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, u)
	return nil
}

func TestUploadUnknownFolder(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	s.srv.AddFolder("alice", "Work", ziplinetest.FolderOptions{})
	paths := writeFiles(t, 10)
	code := s.run("upload", "--folder", "Holidays", paths[0])
	if code != ExitFailure || !strings.Contains(s.err.String(), `no folder called "Holidays"; your folders: Work`) {
		t.Errorf("exit %d, stderr %q", code, s.err)
	}
	if len(s.srv.Files()) != 0 {
		t.Error("a file was uploaded despite the unknown folder")
	}
}

func TestUploadWithEnvironmentCredentials(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	t.Cleanup(srv.Close)
	u := srv.AddUser("bob", "pw", ziplinetest.RoleUser)
	te := newTestEnv(t, "", nil)
	t.Setenv(auth.ServerEnv, srv.URL)
	t.Setenv(auth.TokenEnv, u.Token())
	paths := writeFiles(t, 10)
	if code := te.run("upload", paths[0]); code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, te.err)
	}
	checkLinks(t, srv, te.out.String(), paths)
}

func TestUploadNotSignedIn(t *testing.T) {
	te := newTestEnv(t, "", nil)
	paths := writeFiles(t, 10)
	if code := te.run("upload", paths[0]); code != ExitSignIn {
		t.Fatalf("exit %d, want %d; stderr %s", code, ExitSignIn, te.err)
	}
	if !strings.Contains(te.err.String(), "zipline-tray login") {
		t.Errorf("stderr = %q", te.err)
	}
}

func TestUploadCopyFailure(t *testing.T) {
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	s.Clipboard = func(context.Context, string) error {
		return fmt.Errorf("%w: install xclip or xsel", clipboard.ErrNoTool)
	}
	paths := writeFiles(t, 10, 10)
	code := s.run("upload", "--copy", paths[0], paths[1])
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	checkLinks(t, s.srv, s.out.String(), paths)
	if !strings.Contains(s.err.String(), "not copied") || !strings.Contains(s.err.String(), "install xclip or xsel") {
		t.Errorf("stderr = %q", s.err)
	}
}

func TestNotAZiplineServer(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<html><h1>404 Not Found</h1></html>"))
	}))
	t.Cleanup(web.Close)
	paths := writeFiles(t, 10)
	for _, args := range [][]string{{"upload", paths[0]}, {"whoami"}} {
		te := newTestEnv(t, "", nil)
		t.Setenv(auth.ServerEnv, web.URL)
		t.Setenv(auth.TokenEnv, "dGVzdA==.dGVzdA==")
		if code := te.run(args...); code != ExitFailure {
			t.Errorf("%q: exit %d, want 1", args, code)
		}
		if !strings.Contains(te.err.String(), "not as a Zipline server") {
			t.Errorf("%q: stderr = %q", args, te.err)
		}
	}
}

func TestProgressBarOnlyOnTerminal(t *testing.T) {
	for _, terminal := range []bool{false, true} {
		s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
		s.StderrIsTerminal = terminal
		s.TermWidth = func() int { return 100 }
		paths := writeFiles(t, progressMin+1<<20)
		if code := s.run("upload", paths[0]); code != ExitOK {
			t.Fatalf("exit %d; stderr %q", code, s.err)
		}
		checkLinks(t, s.srv, s.out.String(), paths)
		got := s.err.String()
		if !terminal {
			if got != "" {
				t.Errorf("not a terminal, but stderr = %q", got)
			}
			continue
		}
		if !strings.Contains(got, "\r[") || !strings.Contains(got, "file0.bin") || !strings.HasSuffix(got, "\r\x1b[K") {
			t.Errorf("terminal: stderr = %q, want a bar for file0.bin, erased at the end", got)
		}
	}
}

func TestUploadStdin(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00pixels", 100)
	s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	s.Stdin = strings.NewReader(png)
	rec := &detailRecorder{}
	s.Recorder = rec
	paths := writeFiles(t, 10)
	if code := s.run("upload", paths[0], "-"); code != ExitOK {
		t.Fatalf("exit %d; stderr %q", code, s.err)
	}
	lines := strings.Fields(s.out.String())
	if len(lines) != 2 {
		t.Fatalf("stdout = %q", s.out)
	}
	var got ziplinetest.File
	for _, f := range s.srv.Files() {
		if f.URL == lines[1] {
			got = f
		}
	}
	if got.Filename != "stdin.png" || got.Type != "image/png" || got.Size != int64(len(png)) {
		t.Errorf("stored %+v, want stdin.png, image/png, %d bytes", got, len(png))
	}
	// The spooled copy is gone afterwards.
	for _, r := range rec.got {
		if strings.HasSuffix(r.Path, "stdin.png") {
			if _, err := os.Stat(r.Path); !os.IsNotExist(err) {
				t.Errorf("temporary copy %s left behind (%v)", r.Path, err)
			}
		}
	}

	s = newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	s.Stdin = strings.NewReader("hello")
	if code := s.run("upload", "--name", "note.md", "-"); code != ExitOK {
		t.Fatalf("--name: exit %d; stderr %q", code, s.err)
	}
	if f := s.srv.Files(); len(f) != 1 || f[0].Filename != "note.md" {
		t.Errorf("stored %+v, want note.md", f)
	}

	s = newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
	if code := s.run("upload", "-"); code != ExitFailure || !strings.Contains(s.err.String(), "-: standard input was empty") {
		t.Errorf("empty stdin: exit %d, stderr %q", code, s.err)
	}
	for _, tc := range []struct {
		args     []string
		terminal bool
		want     string
	}{
		{[]string{"-", "-"}, false, "only once"},
		{[]string{"--password-file", "-", "-"}, false, "both the file"},
		{[]string{"-"}, true, "which is a terminal"},
		{[]string{"--name", "x.png", paths[0]}, false, "--name names the data read from standard input"},
	} {
		s := newSignedIn(t, ziplinetest.Config{}, ziplinetest.RoleAdmin)
		s.StdinIsTerminal = tc.terminal
		if code := s.run(append([]string{"upload"}, tc.args...)...); code != ExitUsage || !strings.Contains(s.err.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q", tc.args, code, s.err, tc.want)
		}
	}
}
