package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
)

// testEnv is an Env with captured output, a temporary profile and an
// in-memory token store.
type testEnv struct {
	*Env
	out, err *bytes.Buffer
	store    *auth.MemoryStore
	copied   []string
}

func newTestEnv(t *testing.T, stdin string, vars map[string]string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	te := &testEnv{out: &bytes.Buffer{}, err: &bytes.Buffer{}, store: auth.NewMemoryStore()}
	te.Env = &Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: te.out,
		Stderr: te.err,
		Getenv: func(k string) string { return vars[k] },
		Paths:  auth.Paths{ConfigDir: dir, StateDir: filepath.Join(dir, "state")},
		Store:  te.store,
		Clipboard: func(_ context.Context, text string) error {
			te.copied = append(te.copied, text)
			return nil
		},
	}
	// auth.Resolve also reads the process environment.
	t.Setenv(auth.ServerEnv, "")
	t.Setenv(auth.TokenEnv, "")
	return te
}

func (te *testEnv) run(args ...string) int {
	return Run(context.Background(), te.Env, args)
}

func TestIsCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"shot.png"}, false},
		{[]string{"/home/u/a.png", "b.png"}, false},
		{[]string{"upload", "a.png"}, true},
		{[]string{"login"}, true},
		{[]string{"help"}, true},
		{[]string{"--help"}, true},
		{[]string{"-h"}, true},
		{[]string{"--version"}, true},
		{[]string{"-psn_0_12345"}, false},
	} {
		if got := IsCommand(tc.args); got != tc.want {
			t.Errorf("IsCommand(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		te := newTestEnv(t, "", nil)
		if code := te.run(args...); code != ExitOK {
			t.Fatalf("%q: exit %d", args, code)
		}
		for _, c := range []string{"login", "logout", "upload", "whoami", "version"} {
			if !strings.Contains(te.out.String(), "\n  "+c+" ") {
				t.Errorf("%q: command list lacks %s:\n%s", args, c, te.out)
			}
		}
	}
	for name := range commands {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			te := newTestEnv(t, "", nil)
			if code := te.run(args...); code != ExitOK {
				t.Errorf("%q: exit %d, stderr %s", args, code, te.err)
			}
			if !strings.HasPrefix(te.out.String(), "Usage: zipline-tray "+name) {
				t.Errorf("%q: help does not start with the synopsis:\n%s", args, te.out)
			}
			if te.err.Len() != 0 {
				t.Errorf("%q: help wrote to stderr: %s", args, te.err)
			}
		}
	}
	te := newTestEnv(t, "", nil)
	te.run("upload", "--help")
	for _, fl := range []string{"--format FORMAT", "--expires WHEN", "--max-views N", "--password-file FILE", "--compress PERCENT",
		"--compress-type FORMAT", "--original-name ", "--folder NAME or ID", "--filename NAME", "--extension EXT", "--domain HOST",
		"--copy ", "--server URL"} {
		if !strings.Contains(te.out.String(), "\n  "+fl) {
			t.Errorf("upload --help lacks %q", fl)
		}
	}
	if strings.Contains(te.out.String(), "default -1") || strings.Contains(te.out.String(), "\n  -f") {
		t.Errorf("upload --help shows internals or single-dash flags:\n%s", te.out)
	}
}

func TestUsageErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a.png")
	os.WriteFile(file, []byte("x"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"--frob"}, "unknown flag --frob"},
		{[]string{file}, "zipline-tray upload " + file},
		{[]string{"upload"}, "no files given"},
		{[]string{"upload", "--nope", "a"}, "flag provided but not defined: -nope"},
		{[]string{"upload", "--format", "weird", file}, `--format "weird"`},
		{[]string{"upload", "--expires", "10", file}, "has no unit"},
		{[]string{"upload", "--expires", "2001-01-01", file}, "in the past"},
		{[]string{"upload", "--max-views", "0", file}, "--max-views must be 1 or more"},
		{[]string{"upload", "--compress", "101", file}, "0 to 100"},
		{[]string{"upload", "--compress-type", "png", file}, "needs --compress"},
		{[]string{"upload", "--compress", "80", "--compress-type", "bmp", file}, `--compress-type "bmp"`},
		{[]string{"upload", "--filename", "x", file, file}, "--filename names one file"},
		{[]string{"upload", "--domain", "https://x.test/", file}, "without https://"},
		{[]string{"upload", "--password-file", filepath.Join(t.TempDir(), "none"), file}, "--password-file"},
		{[]string{"whoami", "extra"}, `unexpected argument "extra"`},
		{[]string{"login", "--password-stdin", "--token-stdin"}, "cannot be used together"},
		{[]string{"login", "--server", "https://x.test", "--password-stdin"}, "needs --username"},
		{[]string{"login", "--server", "https://x.test"}, "no terminal to ask on"},
		{[]string{"login"}, "which server?"},
		{[]string{"login", "--server", "ftp://x.test", "--token-stdin"}, "must start with https://"},
	} {
		// Server and token are set so upload gets as far as its options.
		te := newTestEnv(t, "", nil)
		if len(tc.args) > 0 && tc.args[0] == "upload" {
			t.Setenv(auth.ServerEnv, "http://127.0.0.1:1")
			t.Setenv(auth.TokenEnv, "dGVzdA==.dGVzdA==")
		}
		code := te.run(tc.args...)
		if code != ExitUsage {
			t.Errorf("%q: exit %d, want %d; stderr: %s", tc.args, code, ExitUsage, te.err)
		}
		if !strings.Contains(te.err.String(), tc.want) {
			t.Errorf("%q: stderr %q lacks %q", tc.args, te.err, tc.want)
		}
		if te.out.Len() != 0 {
			t.Errorf("%q: wrote to stdout: %q", tc.args, te.out)
		}
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	te := newTestEnv(t, "", nil)
	te.init()
	fs := newFlags("x")
	copyFl := fs.Bool("copy", false, "")
	format := fs.String("format", "", "")
	pos, code, done := parseFlags(te.Env, fs, Command{Name: "x"}, []string{"a.png", "--copy", "b.png", "--format", "uuid", "--", "--c.png"})
	if done || code != 0 {
		t.Fatalf("done=%v code=%d stderr=%s", done, code, te.err)
	}
	if want := []string{"a.png", "b.png", "--c.png"}; strings.Join(pos, "|") != strings.Join(want, "|") {
		t.Errorf("positional = %q, want %q", pos, want)
	}
	if !*copyFl || *format != "uuid" {
		t.Errorf("copy=%v format=%q", *copyFl, *format)
	}
}

func TestUploadOptions(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	pct := func(n int) *int { return &n }
	parse := func(d auth.UploadDefaults, args ...string) (*uploadFlags, error) {
		var f uploadFlags
		fs := newFlags("upload")
		f.define(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		f.set = map[string]bool{}
		fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
		return &f, nil
	}
	_ = parse
	t.Run("flags", func(t *testing.T) {
		f, _ := parse(auth.UploadDefaults{}, "--format", "UUID", "--expires", "1d", "--max-views", "3", "--compress", "80",
			"--compress-type", ".webp", "--original-name", "--folder", "Shots", "--filename", "report", "--extension", ".txt",
			"--domain", "i.example.com", "--extensionless")
		o, folder, err := f.options(auth.UploadDefaults{}, now)
		if err != nil {
			t.Fatal(err)
		}
		if o.Format != "uuid" || o.DeletesAt != "1d" || o.MaxViews != 3 || o.CompressionPercent == nil || *o.CompressionPercent != 80 ||
			o.CompressionType != "webp" || !o.OriginalName || o.Filename != "report" || o.FileExtension != "txt" ||
			o.Domain != "i.example.com" || !o.Extensionless || folder != "Shots" || o.Folder != "" {
			t.Errorf("options = %+v, folder %q", o, folder)
		}
	})
	t.Run("defaults apply when a flag is not given", func(t *testing.T) {
		d := auth.UploadDefaults{Format: "date", DeletesAt: "never", MaxViews: 9, CompressionPercent: pct(50),
			CompressionType: "png", OriginalName: true, Folder: "cmfolderid", Domain: "d.example.com", Extensionless: true}
		f, _ := parse(d)
		o, folder, err := f.options(d, now)
		if err != nil {
			t.Fatal(err)
		}
		if o.Format != "date" || o.DeletesAt != "never" || o.MaxViews != 9 || *o.CompressionPercent != 50 || o.CompressionType != "png" ||
			!o.OriginalName || o.Folder != "cmfolderid" || folder != "" || o.Domain != "d.example.com" || !o.Extensionless {
			t.Errorf("options = %+v, folder %q", o, folder)
		}
		// Flags beat the defaults, including turning a bool off.
		f, _ = parse(d, "--format", "random", "--original-name=false", "--extensionless=false", "--compress", "10", "--folder", "Other")
		o, folder, _ = f.options(d, now)
		if o.Format != "random" || o.OriginalName || o.Extensionless || *o.CompressionPercent != 10 || folder != "Other" || o.Folder != "" {
			t.Errorf("flags over defaults: %+v, folder %q", o, folder)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		for in, want := range map[string]string{
			"":                     "",
			"never":                "never",
			"30m":                  "30m",
			"10 days":              "10 days",
			"1.5h":                 "1.5h",
			"2026-12-31":           "date=2026-12-31T00:00:00.000Z",
			"2026-12-31T18:00:00Z": "date=2026-12-31T18:00:00.000Z",
			"date=2027-01-01":      "date=2027-01-01T00:00:00.000Z",
		} {
			got, err := parseExpiry(in, now)
			if err != nil || got != want {
				t.Errorf("parseExpiry(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
		for _, in := range []string{"5", "tomorrow", "2026-11-01", "1 fortnight"} {
			if got, err := parseExpiry(in, now); err == nil {
				t.Errorf("parseExpiry(%q) = %q, want an error", in, got)
			}
		}
	})
}

func TestBarLine(t *testing.T) {
	l := barLine(5<<20, 10<<20, 2<<20, "movie.mkv", 80)
	if !strings.HasPrefix(l, "[") || !strings.Contains(l, " 50%") || !strings.Contains(l, "5.0/10.0 MiB") ||
		!strings.Contains(l, "2.0 MiB/s") || !strings.HasSuffix(l, "movie.mkv") {
		t.Errorf("barLine = %q", l)
	}
	if len([]rune(l)) > 79 {
		t.Errorf("barLine is %d columns, want < 80", len([]rune(l)))
	}
	if l := barLine(10<<20, 10<<20, 2<<20, "a.mkv", 80); !strings.Contains(l, "100%") || !strings.Contains(l, "server processing") {
		t.Errorf("finished barLine = %q", l)
	}
	long := barLine(1, 10<<20, 0, strings.Repeat("n", 200), 60)
	if len([]rune(long)) > 59 {
		t.Errorf("long name not cut: %d columns: %q", len([]rune(long)), long)
	}
	if tiny := barLine(1, 2, 0, "x", 10); strings.Contains(tiny, "[") {
		t.Errorf("narrow terminal still gets a bar: %q", tiny)
	}
}

func TestProgressBarErasesBeforeOutput(t *testing.T) {
	var term bytes.Buffer
	bar := newProgressBar(&term, func() int { return 80 }, time.Hour)
	bar.update(0, "big.bin", 1<<20, 8<<20) // the first news is drawn at once
	if !strings.Contains(term.String(), "big.bin") {
		t.Fatalf("bar not drawn: %q", term.String())
	}
	var out bytes.Buffer
	bar.printf(&out, "https://x/u/a.png\n")
	if !strings.HasSuffix(term.String(), "\r\x1b[K") {
		t.Errorf("bar not erased before output: %q", term.String())
	}
	bar.update(1, "small.png", 10, 100) // below progressMin: not shown
	bar.done(0)
	bar.close()
	if strings.Contains(term.String(), "small.png") {
		t.Errorf("small file shown: %q", term.String())
	}
	var nilBar *progressBar
	nilBar.update(0, "x", 1, progressMin)
	nilBar.printf(&out, "ok\n")
	nilBar.close()
	if !strings.HasSuffix(out.String(), "ok\n") {
		t.Errorf("nil bar printf = %q", out.String())
	}
}

func TestOpenUploadMessages(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "secret.png")
	os.WriteFile(unreadable, []byte("x"), 0o000)
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.png"): "no such file",
		dir:                               "is a folder; upload the files in it instead",
		os.DevNull:                        "not a regular file",
	} {
		if _, err := openUpload(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("openUpload(%s) = %v, want %q", path, err, want)
		}
	}
	if os.Geteuid() != 0 {
		if _, err := openUpload(unreadable); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("openUpload(unreadable) = %v", err)
		}
	}
}

func TestRedact(t *testing.T) {
	env := &Env{secrets: []string{"tok.en.12345", "pw", "hunter22"}}
	got := env.redact("token tok.en.12345 and password hunter22, pw kept")
	if want := "token [hidden] and password [hidden], pw kept"; got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
}
