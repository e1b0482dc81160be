package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// ConfigVersion is the schema version written to config.json.
const ConfigVersion = 1

// Link formats for LinkSettings.Format.
const (
	LinkURL      = "url"      // the page URL the server returns
	LinkRaw      = "raw"      // the /raw/ URL (the file itself)
	LinkMarkdown = "markdown" // ![name](url) for images, [name](url) otherwise
	LinkHTML     = "html"     // <img src> for images, <a href> otherwise
)

// Config is the one settings file (config.json) of the CLI, the upload
// engine and the desktop app. It holds no secrets: the token lives in the
// keyring, and a per-upload password is never saved.
type Config struct {
	Version int `json:"version"`
	// Server is the normalised base URL of the active account.
	Server string `json:"server"`
	// Username of the active account; with Server it names the keyring entry.
	// Empty when signed out.
	Username string `json:"username"`
	// CAFile is a PEM bundle trusted in addition to the system roots.
	CAFile string `json:"caFile,omitempty"`
	// Headers are sent with every request (e.g. Cloudflare Access service
	// token headers).
	Headers map[string]string `json:"headers,omitempty"`
	// AllowHTTP permits plain http to a host that is not loopback.
	AllowHTTP bool `json:"allowHTTP"`

	Upload    UploadDefaults `json:"upload"`
	Watch     WatchSettings  `json:"watch"`
	Links     LinkSettings   `json:"links"`
	Notify    NotifySettings `json:"notify"`
	Autostart bool           `json:"autostart"`

	// extra keeps top-level keys this version does not know, so a file
	// written by a newer version survives a save by an older one.
	extra map[string]json.RawMessage
}

// UploadDefaults are the upload options applied to every upload unless a
// command or the window overrides them. Zero values mean "server default".
type UploadDefaults struct {
	// Format names uploaded files: random (default), uuid, date, name,
	// gfycat, random-words.
	Format string `json:"format"`
	// DeletesAt: "" (server default), "never", "date=<ISO>", or "1d", "2h"...
	DeletesAt string `json:"deletesAt,omitempty"`
	// CompressionPercent compresses images (0..100); nil leaves them alone.
	CompressionPercent *int `json:"compressionPercent,omitempty"`
	// CompressionType is jpg, png, webp or jxl (needs CompressionPercent).
	CompressionType string `json:"compressionType,omitempty"`
	MaxViews        int    `json:"maxViews,omitempty"`
	OriginalName    bool   `json:"originalName"`
	// Folder is a folder id on the server.
	Folder string `json:"folder,omitempty"`
	// Domain overrides the host of returned links.
	Domain        string `json:"domain,omitempty"`
	Extensionless bool   `json:"extensionless"`
}

// WatchSettings configure the folder watcher.
type WatchSettings struct {
	Folders []WatchFolder `json:"folders"`
	// Include lists the file extensions uploaded from watched folders,
	// lower case without the dot. Empty means every file.
	Include []string `json:"include"`
	// CatchUp uploads files that arrived while the app was not running.
	CatchUp bool `json:"catchUp"`
	// ReuseLinks returns the earlier link for content already uploaded.
	ReuseLinks bool `json:"reuseLinks"`
	// Concurrency is the number of uploads at once (1..16).
	Concurrency int `json:"concurrency"`
	// DeleteAfterUpload removes the local file once the server has it and
	// its link is on disk, if it still holds the bytes uploaded and no
	// program is writing it (otherwise it is kept, and the log says why).
	DeleteAfterUpload bool `json:"deleteAfterUpload"`
	// OneFilePerRequest sends every file in its own request. Otherwise a
	// burst of small files goes up several per request (fewer requests
	// against the server's rate limit, and no round trip per file).
	OneFilePerRequest bool `json:"oneFilePerRequest,omitempty"`
}

// WatchFolder is one watched folder.
type WatchFolder struct {
	Path      string `json:"path"`
	Recursive bool   `json:"recursive"`
}

// LinkSettings say what happens with the link of a finished upload.
type LinkSettings struct {
	// Copy puts the link on the clipboard.
	Copy bool `json:"copy"`
	// Format is LinkURL, LinkRaw, LinkMarkdown or LinkHTML.
	Format string `json:"format"`
}

// NotifySettings choose the desktop notifications.
type NotifySettings struct {
	OnSuccess bool `json:"onSuccess"`
	OnFailure bool `json:"onFailure"`
}

// DefaultInclude are the extensions watched by default: images and
// screen recordings.
var DefaultInclude = []string{
	"png", "jpg", "jpeg", "gif", "webp", "avif", "heic", "heif", "bmp", "tif", "tiff", "jxl",
	"mp4", "webm", "mkv", "mov", "m4v", "avi",
}

// Defaults returns the settings of a fresh install.
func Defaults() *Config {
	return &Config{
		Version: ConfigVersion,
		Upload:  UploadDefaults{Format: "random"},
		Watch: WatchSettings{
			Folders:     []WatchFolder{},
			Include:     append([]string(nil), DefaultInclude...),
			CatchUp:     true,
			ReuseLinks:  true,
			Concurrency: 2,
		},
		Links:  LinkSettings{Copy: true, Format: LinkURL},
		Notify: NotifySettings{OnSuccess: true, OnFailure: true},
	}
}

// LoadConfig reads the settings file. A missing file gives Defaults();
// fields missing from the file keep their defaults; unknown fields are
// kept and written back by Save. A damaged file is an error and is left
// untouched.
func LoadConfig(path string) (*Config, error) {
	c := Defaults()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("settings file %s is damaged (%s); fix or remove it", path, jsonErrorWhere(b, err))
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err == nil {
		for _, k := range knownKeys() {
			delete(all, k)
		}
		if len(all) > 0 {
			c.extra = all
		}
	}
	c.normalize()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("settings file %s: %w", path, err)
	}
	return c, nil
}

// jsonErrorWhere turns a JSON error into "line N: msg".
func jsonErrorWhere(b []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err.Error()
	}
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	return fmt.Sprintf("line %d: %v", line, err)
}

func knownKeys() []string {
	return []string{"version", "server", "username", "caFile", "headers", "allowHTTP",
		"upload", "watch", "links", "notify", "autostart"}
}

// normalize fixes harmless variations (".PNG" → "png").
func (c *Config) normalize() {
	inc := c.Watch.Include[:0]
	for _, e := range c.Watch.Include {
		if e = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(e), ".")); e != "" {
			inc = append(inc, e)
		}
	}
	if c.Watch.Include != nil {
		c.Watch.Include = inc
	}
	c.Links.Format = strings.ToLower(strings.TrimSpace(c.Links.Format))
	if c.Links.Format == "" {
		c.Links.Format = LinkURL
	}
	if c.Watch.Concurrency == 0 {
		c.Watch.Concurrency = 2
	}
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	if c.Server != "" {
		if _, err := NormalizeServer(c.Server); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	switch c.Links.Format {
	case LinkURL, LinkRaw, LinkMarkdown, LinkHTML:
	default:
		return fmt.Errorf("links.format %q: use url, raw, markdown or html", c.Links.Format)
	}
	if n := c.Watch.Concurrency; n < 1 || n > 16 {
		return fmt.Errorf("watch.concurrency %d: use 1 to 16", n)
	}
	if p := c.Upload.CompressionPercent; p != nil && (*p < 0 || *p > 100) {
		return fmt.Errorf("upload.compressionPercent %d: use 0 to 100", *p)
	}
	if c.Upload.MaxViews < 0 {
		return fmt.Errorf("upload.maxViews %d: must not be negative", c.Upload.MaxViews)
	}
	for k := range c.Headers {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			return fmt.Errorf("headers: %q is not a valid header name", k)
		}
		if strings.ContainsAny(c.Headers[k], "\r\n") {
			return fmt.Errorf("headers: the value of %q has a line break", k)
		}
		if strings.EqualFold(k, "Authorization") {
			return errors.New("headers: Authorization is set from the keyring; remove it from the settings file")
		}
	}
	return nil
}

// MarshalJSON writes the known fields, then any unknown top-level keys
// read from the file.
func (c *Config) MarshalJSON() ([]byte, error) {
	type plain Config // no methods: avoids recursion
	b, err := json.Marshal((*plain)(c))
	if err != nil || len(c.extra) == 0 {
		return b, err
	}
	keys := make([]string, 0, len(c.extra))
	for k := range c.extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // without the closing brace
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(c.extra[k])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Save writes the settings atomically (temporary file, fsync, rename) with
// mode 0600, creating the folder (0700) if needed.
func (c *Config) Save(path string) error {
	// Work on a copy: Save must not write to a Config others may be reading.
	cp := *c
	cp.Watch.Include = append([]string(nil), c.Watch.Include...)
	if c.Watch.Include == nil {
		cp.Watch.Include = nil
	}
	cp.normalize()
	if err := cp.Validate(); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if cp.Version < ConfigVersion {
		cp.Version = ConfigVersion
	}
	b, err := json.MarshalIndent(&cp, "", "  ")
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'))
}

func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	f, err := os.CreateTemp(dir, ".config-*.tmp")
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("save settings %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("save settings %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save settings %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save settings %s: %w", path, err)
	}
	// Make the rename itself durable; not possible on every OS, so best effort.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// UpdateConfig loads the file at path, applies fn and saves the result, so
// a change from one process does not drop another's earlier change.
func UpdateConfig(path string, fn func(*Config) error) (*Config, error) {
	c, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	if err := fn(c); err != nil {
		return nil, err
	}
	if err := c.Save(path); err != nil {
		return nil, err
	}
	return c, nil
}

// Options turns the defaults into the client's upload options.
func (u UploadDefaults) Options() zipline.UploadOptions {
	o := zipline.UploadOptions{
		Format:          u.Format,
		DeletesAt:       u.DeletesAt,
		CompressionType: u.CompressionType,
		MaxViews:        u.MaxViews,
		OriginalName:    u.OriginalName,
		Folder:          u.Folder,
		Domain:          u.Domain,
		Extensionless:   u.Extensionless,
	}
	if u.CompressionPercent != nil {
		p := *u.CompressionPercent
		o.CompressionPercent = &p
	}
	return o
}

// Accepts reports whether a file with this name is uploaded from a watched
// folder, by its extension (case-insensitive). An empty Include accepts all.
func (w WatchSettings) Accepts(name string) bool {
	if len(w.Include) == 0 {
		return true
	}
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	if ext == "" {
		return false
	}
	for _, e := range w.Include {
		if e == ext {
			return true
		}
	}
	return false
}
