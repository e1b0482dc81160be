package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// writeSXCU writes a ShareX config shaped like the one Zipline 4.6.3
// generates (file mode) and returns its path.
func writeSXCU(t *testing.T, name, server string, headers map[string]string) string {
	t.Helper()
	doc := map[string]any{
		"Version":         "17.0.0",
		"Name":            "Zipline - " + server + " - File",
		"DestinationType": "ImageUploader, TextUploader, FileUploader",
		"RequestMethod":   "POST",
		"RequestURL":      server + "/api/upload",
		"Headers":         headers,
		"URL":             "{json:files[0].url}",
		"Body":            "MultipartFormData",
		"FileFormName":    "file",
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportSXCUEndToEnd(t *testing.T) {
	srv := ziplinetest.New(t, ziplinetest.Config{})
	tok := srv.AddUser("alice", "hunter2", ziplinetest.RoleUser).Token()
	file := writeSXCU(t, "zipline-file.sxcu", srv.URL, map[string]string{
		"authorization":           tok,
		"x-zipline-format":        "DATE",
		"x-zipline-max-views":     "3",
		"x-zipline-original-name": "true",
		"x-zipline-password":      "secret-pw",
		"CF-Access-Client-Id":     "cf-id",
	})
	te := newTestEnv(t, "", nil)
	if code := te.run("import", file); code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, te.err)
	}
	out := te.out.String()
	for _, want := range []string{
		"Imported zipline-file.sxcu: signed in to " + srv.URL + " as alice.",
		"Default upload options now: name format date, max views 3, keep original name.",
		"Sent with every request from now on: CF-Access-Client-Id.",
		"Not imported: x-zipline-password",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got, err := te.store.Get(srv.URL, "alice"); err != nil || got != tok {
		t.Fatalf("keyring holds %q, %v; want the config's token", got, err)
	}
	cfg, err := auth.LoadConfig(te.Paths.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server != srv.URL || cfg.Username != "alice" {
		t.Errorf("config server=%q user=%q", cfg.Server, cfg.Username)
	}
	if cfg.Upload.Format != "date" || cfg.Upload.MaxViews != 3 || !cfg.Upload.OriginalName {
		t.Errorf("upload defaults not applied: %+v", cfg.Upload)
	}
	if cfg.Headers["CF-Access-Client-Id"] != "cf-id" {
		t.Errorf("headers = %v", cfg.Headers)
	}
	raw, _ := os.ReadFile(te.Paths.ConfigFile())
	if strings.Contains(string(raw), tok) || strings.Contains(string(raw), "secret-pw") {
		t.Error("config file holds a secret from the .sxcu")
	}
	if strings.Contains(te.out.String()+te.err.String(), tok) {
		t.Error("output shows the token")
	}

	// The imported sign-in and defaults are what an upload uses next.
	img := filepath.Join(t.TempDir(), "shot.txt")
	os.WriteFile(img, []byte("hello"), 0o600)
	up := &testEnv{Env: &Env{Stdout: te.out, Stderr: te.err, Paths: te.Paths, Store: te.store}}
	if code := up.run("upload", img); code != ExitOK {
		t.Fatalf("upload after import: exit %d; stderr %s", code, te.err)
	}
	files := srv.Files()
	if len(files) != 1 {
		t.Fatalf("%d files on the server", len(files))
	}
	f := files[0]
	if f.Owner != "alice" || f.MaxViews != 3 || f.OriginalName != "shot.txt" || f.Options.Get("x-zipline-format") != "date" {
		t.Errorf("uploaded with owner=%q maxViews=%d originalName=%q options=%v", f.Owner, f.MaxViews, f.OriginalName, f.Options)
	}
}

func TestImportIshareAndItake(t *testing.T) {
	srv := ziplinetest.New(t, ziplinetest.Config{})
	u := srv.AddUser("bob", "pw", ziplinetest.RoleUser)
	for name, body := range map[string]string{
		"zipline-file.iscu": `{"name":"Zipline","requesturl":"` + srv.URL + `/api/upload","headers":{"authorization":"` + u.Token() + `","x-zipline-deletes-at":"1d"},"fileformname":"file","responseurl":"{{files[0].url}}"}`,
		"zipline-file.itup": `{"name":"Zipline","request":{"url":"` + srv.URL + `/api/upload","method":"POST","headers":{"authorization":"` + u.Token() + `","x-zipline-deletes-at":"1d"}},"body":{"type":"multipart","fileField":"file","fields":{}},"response":{"linkPath":"files.0.url"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), name)
			os.WriteFile(p, []byte(body), 0o600)
			te := newTestEnv(t, "", nil)
			if code := te.run("import", p); code != ExitOK {
				t.Fatalf("exit %d; stderr %s", code, te.err)
			}
			if !strings.Contains(te.out.String(), "delete after 1d") {
				t.Errorf("output: %s", te.out)
			}
			cfg, _ := auth.LoadConfig(te.Paths.ConfigFile())
			if cfg.Username != "bob" || cfg.Upload.DeletesAt != "1d" {
				t.Errorf("config user=%q deletesAt=%q", cfg.Username, cfg.Upload.DeletesAt)
			}
		})
	}
}

// A refused import stores nothing and writes no settings file.
func checkNothingImported(t *testing.T, te *testEnv) {
	t.Helper()
	if n := te.store.Len(); n != 0 {
		t.Errorf("%d tokens stored", n)
	}
	if _, err := os.Stat(te.Paths.ConfigFile()); err == nil {
		t.Error("settings file written")
	}
}

func TestImportRejectedToken(t *testing.T) {
	srv := ziplinetest.New(t, ziplinetest.Config{})
	srv.AddUser("alice", "hunter2", ziplinetest.RoleUser)
	bad := "bm90LWEtdG9rZW4uYWJjZGVmZ2hpams=" // well-formed, unknown to the server
	file := writeSXCU(t, "old.sxcu", srv.URL, map[string]string{"authorization": bad})
	te := newTestEnv(t, "", nil)
	if code := te.run("import", file); code != ExitFailure {
		t.Fatalf("exit %d; stderr %s", code, te.err)
	}
	if !strings.Contains(te.err.String(), "old.sxcu") || strings.Contains(te.err.String(), bad) {
		t.Errorf("stderr: %s", te.err)
	}
	checkNothingImported(t, te)
}

func TestImportRefusesV3AndOtherHosts(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, body, want string }{
		{"v3.sxcu", `{"Version":"14.1.0","Name":"Zipline","RequestMethod":"POST","RequestURL":"https://z.example/api/upload","Headers":{"Authorization":"v3token.abc","Format":"RANDOM"},"URL":"{json:files[0]}","Body":"MultipartFormData","FileFormName":"file"}`,
			"v3.sxcu is a Zipline v3 config; its token does not work with Zipline v4. Get a new token from your v4 server"},
		{"v3-url.sxcu", `{"Version":"14.1.0","RequestURL":"https://z.example/api/shorten","Headers":{"Authorization":"v3token.abc"},"URL":"{json:url}"}`,
			"v3-url.sxcu is a Zipline v3 config"},
		{"imgur.sxcu", `{"Version":"13.1.0","Name":"Imgur","DestinationType":"ImageUploader","RequestMethod":"POST","RequestURL":"https://api.imgur.com/3/image","Headers":{"Authorization":"Client-ID abc123"},"Body":"MultipartFormData","FileFormName":"image","URL":"{json:data.link}"}`,
			"imgur.sxcu is not a Zipline uploader config"},
		{"notes.sxcu", "hello, not json", "notes.sxcu is not a Zipline uploader config"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			os.WriteFile(p, []byte(c.body), 0o600)
			te := newTestEnv(t, "", nil)
			if code := te.run("import", p); code != ExitFailure {
				t.Fatalf("exit %d; stderr %s", code, te.err)
			}
			if !strings.Contains(te.err.String(), c.want) {
				t.Errorf("stderr = %q, want %q", te.err, c.want)
			}
			checkNothingImported(t, te)
		})
	}
}

func TestImportUsage(t *testing.T) {
	te := newTestEnv(t, "", nil)
	if code := te.run("import"); code != ExitUsage {
		t.Errorf("no file: exit %d", code)
	}
	te = newTestEnv(t, "", nil)
	if code := te.run("import", filepath.Join(t.TempDir(), "missing.sxcu")); code != ExitFailure || !strings.Contains(te.err.String(), "missing.sxcu") {
		t.Errorf("missing file: exit %d, stderr %s", code, te.err)
	}
}
