// Package zipline is a typed client for the Zipline v4 HTTP API
// (github.com/diced/zipline), as the server really behaves from 4.0 to 4.8.
//
// The token is sent bare in the Authorization header (Zipline has no Bearer
// scheme) and only to the configured server.
package zipline

import (
	"io"
	"time"
)

// Version is the client version, reported in the User-Agent.
var Version = "0.1.0-dev"

// Options configures a Client. Only Server is required.
type Options struct {
	// Server is the base URL, e.g. "https://zipline.example.com".
	Server string
	// Token is the API token from GET /api/user/token. Empty for the
	// unauthenticated calls (probe, login).
	Token string
	// CAFile is a PEM bundle trusted in addition to the system roots, for
	// self-hosters with a private CA.
	CAFile string
	// Headers are sent on every request to the server (e.g. Cloudflare Access).
	Headers map[string]string
	// AllowHTTP permits sending credentials over plain http to a host that is
	// not loopback. Without it NewClient fails with ErrInsecureHTTP.
	AllowHTTP bool
	// UserAgent overrides "zipline-tray/<Version>".
	UserAgent string
	// Timeout bounds requests that carry no file body (0: 30 s). Uploads are
	// bounded by their context only.
	Timeout time.Duration
}

// Limits are the server's upload limits from GET /api/server/public, or the
// documented defaults when the server predates that route (< 4.3.0).
type Limits struct {
	MaxFileSize   int64 // files.maxFileSize, bytes
	ChunksEnabled bool
	ChunkSize     int64 // chunks.size, bytes
	ChunkMin      int64 // chunks.max: files of this size or more are chunked
	DefaultFormat string
	MaxExpiration string
	Domains       []string
}

// ServerInfo is what Probe learns about a server.
type ServerInfo struct {
	// Version is the exact version when the server told us ("4.6.3"), else a
	// range such as ">=4.3.0" or "4.x".
	Version string
	Limits  Limits
	// FirstSetup is true on an instance that has no user yet.
	FirstSetup  bool
	ReturnHTTPS bool
	// OAuthOnly is true when the web UI hides the password form.
	OAuthOnly bool
}

// User is the signed-in user (GET /api/user).
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Role     string `json:"role"` // USER, ADMIN, SUPERADMIN
	// TOTP reports whether two-factor sign-in is on. (The server sends the
	// secret itself; the client keeps only this bit.)
	TOTP bool `json:"-"`
	// Quota is nil when the user has none.
	Quota *Quota `json:"quota"`
}

// Quota is a per-user limit.
type Quota struct {
	FilesQuota string  `json:"filesQuota"` // BY_BYTES or BY_FILES
	MaxBytes   *string `json:"maxBytes"`
	MaxFiles   *int    `json:"maxFiles"`
	MaxURLs    *int    `json:"maxUrls"`
}

// UploadOptions are the x-zipline-* upload headers. Zero values are left
// out, meaning "server default".
type UploadOptions struct {
	Format             string // random, uuid, date, name, gfycat, random-words
	DeletesAt          string // "never", "date=<ISO>", or a duration like "1d"
	CompressionPercent *int   // 0..100, images only
	CompressionType    string // jpg, jpeg, png, webp, jxl (needs CompressionPercent)
	Password           string
	MaxViews           int
	OriginalName       bool
	Folder             string // folder id
	Filename           string // base name without extension
	FileExtension      string // "png" or ".png"
	Domain             string // host[:port], or a comma-separated list
	Extensionless      bool   // 4.7+
}

// Upload describes one file to send. Open may be called more than once (a
// chunked upload that restarts from byte 0); it must yield Size bytes.
type Upload struct {
	Name        string // file name sent to the server; gives the extension
	Size        int64
	ContentType string // "" detects from the extension, then the content
	Open        func() (io.ReadCloser, error)
	// Unchanged, if set, is asked after each part of the content was read
	// and before it is sent whole: an error (wrapping ErrFileChanged) fails
	// the upload instead of storing a file rewritten meanwhile. FileUpload
	// sets it; a file rewritten in place keeps its size, not its mtime.
	Unchanged func() error
}

// Progress is told the bytes of the file body sent so far, from another
// goroutine, and never after Upload has returned: Upload waits for a call
// in progress, so it must not block for long (nor wait for Upload).
type Progress func(sent, total int64)

// UploadedFile is one entry of an upload reply.
type UploadedFile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	URL  string `json:"url"`
	// Pending is true after a chunked upload, until the server has joined the
	// chunks (see Client.WaitComplete).
	Pending   bool   `json:"pending"`
	DeletesAt string `json:"-"`
}

// File is a file as the listing endpoints return it.
type File struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	OriginalName string     `json:"originalName"`
	Type         string     `json:"type"`
	Size         int64      `json:"size"`
	Views        int        `json:"views"`
	MaxViews     *int       `json:"maxViews"`
	CreatedAt    time.Time  `json:"createdAt"`
	DeletesAt    *time.Time `json:"deletesAt"`
	FolderID     *string    `json:"folderId"`
	// URL is absolute: the server's relative url joined to the base URL.
	URL string `json:"url"`
}

// Folder is one of the user's folders.
type Folder struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Public       bool    `json:"public"`
	AllowUploads bool    `json:"allowUploads"`
	ParentID     *string `json:"parentId"`
}

// IncompleteFile is a chunked upload the server is still assembling.
type IncompleteFile struct {
	ID             string `json:"id"`
	Status         string `json:"status"` // PENDING, PROCESSING, COMPLETE, FAILED
	ChunksTotal    int    `json:"chunksTotal"`
	ChunksComplete int    `json:"chunksComplete"`
	FileID         string `json:"-"` // metadata.file.id
}

// ShortenOptions are the headers of POST /api/user/urls.
type ShortenOptions struct {
	Vanity   string
	MaxViews int
	Password string
	Domain   string
}

// ShortURL is a created short link.
type ShortURL struct {
	ID          string `json:"id"`
	Code        string `json:"code"`
	Vanity      string `json:"vanity"`
	Destination string `json:"destination"`
	URL         string `json:"url"`
}
