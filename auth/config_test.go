package auth

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestDefaultsWhenFileMissing(t *testing.T) {
	c, err := LoadConfig(filepath.Join(t.TempDir(), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Defaults()) {
		t.Fatalf("missing file: got %+v, want defaults", c)
	}
	d := Defaults()
	if d.Upload.Format != "random" || !d.Watch.CatchUp || !d.Watch.ReuseLinks || d.Watch.Concurrency != 2 ||
		d.Watch.DeleteAfterUpload || !d.Links.Copy || d.Links.Format != LinkURL || !d.Notify.OnSuccess ||
		!d.Notify.OnFailure || d.Version != 1 {
		t.Fatalf("defaults: %+v", d)
	}
	if !d.Watch.Accepts("Screenshot From 2025-12-23 12-22-06.PNG") || !d.Watch.Accepts("rec.webm") || d.Watch.Accepts("notes.txt") || d.Watch.Accepts("png") {
		t.Fatal("default include list does not match images and recordings only")
	}
}

func TestConfigRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.json")
	pct := 80
	c := Defaults()
	c.Server = "https://zipline.example.com"
	c.Username = "alice"
	c.CAFile = "/etc/ca.pem"
	c.Headers = map[string]string{"CF-Access-Client-Id": "abc"}
	c.AllowHTTP = true
	c.Upload = UploadDefaults{Format: "uuid", DeletesAt: "1d", CompressionPercent: &pct, CompressionType: "webp",
		MaxViews: 3, OriginalName: true, Folder: "f1", Domain: "i.example.com", Extensionless: true}
	c.Watch = WatchSettings{Folders: []WatchFolder{{Path: "/home/a/Pictures/Screenshots", Recursive: true}},
		Include: []string{"png"}, CatchUp: false, ReuseLinks: false, Concurrency: 4, DeleteAfterUpload: true}
	c.Links = LinkSettings{Copy: false, Format: LinkMarkdown}
	c.Notify = NotifySettings{OnSuccess: false, OnFailure: false}
	c.Autostart = true
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
	}
	// false booleans that default to true must survive a reload.
	if got.Links.Copy || got.Watch.CatchUp || got.Notify.OnSuccess {
		t.Fatal("false settings came back true")
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
			}
		}
	}
	var raw map[string]any
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["version"] != float64(1) {
		t.Fatalf("version field: %v", raw["version"])
	}
	for _, k := range []string{"token", "password"} {
		if strings.Contains(strings.ToLower(string(b)), `"`+k+`"`) {
			t.Fatalf("config has a %q field:\n%s", k, b)
		}
	}
}

func TestConfigPartialAndUnknownFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	in := `{"version":2,"server":"https://z.example","futureThing":{"a":[1,2]},
	  "links":{"format":"raw","futureLink":true},"watch":{"include":[".PNG"," Jpg",""]}}`
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Links.Format != LinkRaw || !c.Links.Copy || !c.Notify.OnSuccess || c.Watch.Concurrency != 2 || !c.Watch.CatchUp {
		t.Fatalf("missing fields did not keep defaults: %+v", c)
	}
	if !reflect.DeepEqual(c.Watch.Include, []string{"png", "jpg"}) {
		t.Fatalf("include not normalised: %q", c.Watch.Include)
	}
	c.Username = "bob"
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var future struct{ A []int }
	if err := json.Unmarshal(raw["futureThing"], &future); err != nil || !reflect.DeepEqual(future.A, []int{1, 2}) {
		t.Fatalf("unknown top-level field lost on save:\n%s", b)
	}
	if string(raw["version"]) != "2" {
		t.Fatalf("a newer version number was downgraded: %s", raw["version"])
	}
}

func TestConfigDamagedFileIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	bad := "{\n  \"server\": \"https://z.example\",\n  \"links\": {\"copy\": yes}\n}\n"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if err == nil {
		t.Fatal("damaged file loaded without error")
	}
	if !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), path) {
		t.Fatalf("error does not say where: %v", err)
	}
	if _, err := UpdateConfig(path, func(c *Config) error { c.Autostart = true; return nil }); err == nil {
		t.Fatal("UpdateConfig overwrote a damaged file")
	}
	if b, _ := os.ReadFile(path); string(b) != bad {
		t.Fatal("damaged file was changed")
	}
}

func TestConfigValidate(t *testing.T) {
	bad := map[string]func(*Config){
		"links.format":       func(c *Config) { c.Links.Format = "bbcode" },
		"concurrency":        func(c *Config) { c.Watch.Concurrency = 100 },
		"compressionPercent": func(c *Config) { p := 101; c.Upload.CompressionPercent = &p },
		"Authorization":      func(c *Config) { c.Headers = map[string]string{"authorization": "x"} },
		"server":             func(c *Config) { c.Server = "ftp://x" },
		"line break":         func(c *Config) { c.Headers = map[string]string{"X-A": "a\r\nX-B: b"} },
	}
	for name, mutate := range bad {
		c := Defaults()
		mutate(c)
		err := c.Save(filepath.Join(t.TempDir(), "config.json"))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: Save error %v", name, err)
		}
	}
}

func TestConfigAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	c := Defaults()
	c.Server = "https://one.example"
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	// A save that cannot finish (target is a directory) leaves the old file
	// and no temporary files behind.
	blocked := filepath.Join(dir, "blocked")
	if err := os.Mkdir(blocked, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocked, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(blocked); err == nil {
		t.Fatal("save over a non-empty directory succeeded")
	}
	c.Server = "https://two.example"
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
	got, err := LoadConfig(path)
	if err != nil || got.Server != "https://two.example" {
		t.Fatalf("after rewrite: %v %v", got, err)
	}
}

// Readers never see a half-written file while another goroutine saves.
func TestConfigConcurrentReadersSeeWholeFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	c := Defaults()
	c.Watch.Folders = make([]WatchFolder, 200)
	for i := range c.Watch.Folders {
		c.Watch.Folders[i].Path = strings.Repeat("x", 100)
	}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 50; i++ {
			c.Autostart = i%2 == 0
			if err := c.Save(path); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
		}
		got, err := LoadConfig(path)
		if err != nil {
			t.Fatalf("reader saw a broken file: %v", err)
		}
		if len(got.Watch.Folders) != 200 {
			t.Fatalf("reader saw %d folders", len(got.Watch.Folders))
		}
	}
}

func TestUploadOptions(t *testing.T) {
	p := 50
	u := UploadDefaults{Format: "date", DeletesAt: "never", CompressionPercent: &p, CompressionType: "jxl",
		MaxViews: 2, OriginalName: true, Folder: "fid", Domain: "d.example", Extensionless: true}
	o := u.Options()
	if o.Format != "date" || o.DeletesAt != "never" || o.CompressionType != "jxl" || o.MaxViews != 2 ||
		!o.OriginalName || o.Folder != "fid" || o.Domain != "d.example" || !o.Extensionless || o.Password != "" {
		t.Fatalf("options: %+v", o)
	}
	if o.CompressionPercent == nil || *o.CompressionPercent != 50 {
		t.Fatal("compression percent lost")
	}
	*o.CompressionPercent = 10
	if p != 50 {
		t.Fatal("options share the config's pointer")
	}
	if Defaults().Upload.Options().CompressionPercent != nil {
		t.Fatal("default compresses")
	}
}

func TestNormalizeServer(t *testing.T) {
	ok := map[string]string{
		"zipline.example.com":                   "https://zipline.example.com",
		" HTTPS://Zipline.Example.com:443/ \n":  "https://zipline.example.com",
		"http://127.0.0.1:3000/":                "http://127.0.0.1:3000",
		"http://localhost:80":                   "http://localhost",
		"https://example.com/zipline/":          "https://example.com/zipline",
		"https://z.example.com/dashboard":       "https://z.example.com",
		"https://z.example.com/dashboard/files": "https://z.example.com",
		"https://z.example.com/api/user":        "https://z.example.com",
		"http://[::1]:3000":                     "http://[::1]:3000",
		"https://z.example.com/apiary":          "https://z.example.com/apiary",
	}
	for in, want := range ok {
		got, err := NormalizeServer(in)
		if err != nil || got != want {
			t.Errorf("NormalizeServer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ftp://x", "https://", "https://u:p@x.example", "https://x.example/?a=1", "http://%zz"} {
		if got, err := NormalizeServer(in); err == nil {
			t.Errorf("NormalizeServer(%q) = %q, want an error", in, got)
		}
	}
}

// Save only reads the Config, so the window can show it while the engine
// saves it (the race detector checks this).
func TestConfigSaveDoesNotWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	c := Defaults()
	c.Watch.Include = []string{".PNG", "jpg"}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				_ = strings.Join(c.Watch.Include, ",") + c.Links.Format
				_ = c.Version
			}
		}
	}()
	for range 20 {
		if err := c.Save(path); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	<-done
	if c.Watch.Include[0] != ".PNG" {
		t.Fatal("Save changed the caller's config")
	}
	got, err := LoadConfig(path)
	if err != nil || got.Watch.Include[0] != "png" {
		t.Fatalf("saved include %v %v", got.Watch.Include, err)
	}
}
