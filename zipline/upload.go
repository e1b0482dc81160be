package zipline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// ErrFileChanged: the file's size changed while it was being sent (it is
// still being written, or was truncated). Try again once it is stable.
var ErrFileChanged = errors.New("the file changed while it was being uploaded; try again once it is complete")

// FileUpload describes a file on disk for Upload (name, size, content type).
func FileUpload(path string) (Upload, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Upload{}, err
	}
	if !fi.Mode().IsRegular() {
		return Upload{}, fmt.Errorf("%s is not a regular file", path)
	}
	u := Upload{
		Name: filepath.Base(path),
		Size: fi.Size(),
		Open: func() (io.ReadCloser, error) { return os.Open(path) },
		Unchanged: func() error {
			now, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("%w (%v)", ErrFileChanged, err)
			}
			if now.Size() != fi.Size() || !now.ModTime().Equal(fi.ModTime()) {
				return fmt.Errorf("%w (it was written to again)", ErrFileChanged)
			}
			return nil
		},
	}
	u.ContentType, err = detectType(u)
	if err != nil {
		return Upload{}, err
	}
	return u, nil
}

// BytesUpload describes a file already in memory, under name (which gives
// the extension and so the content type).
func BytesUpload(name string, data []byte) Upload {
	u := Upload{
		Name: name,
		Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
	u.ContentType, _ = detectType(u) // reading memory cannot fail
	return u
}

// detectType is the part's real content type: the caller's, else from the
// extension, else sniffed from the first 512 bytes.
func detectType(u Upload) (string, error) {
	if u.ContentType != "" {
		return u.ContentType, nil
	}
	if ext := strings.ToLower(filepath.Ext(u.Name)); ext != "" {
		if t := commonTypes[ext]; t != "" {
			return t, nil
		}
		if t := bareType(mime.TypeByExtension(ext)); t != "" {
			return t, nil
		}
	}
	if u.Open == nil || u.Size == 0 {
		return "application/octet-stream", nil
	}
	r, err := u.Open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	buf := make([]byte, 512)
	n, err := io.ReadFull(r, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", err
	}
	return bareType(http.DetectContentType(buf[:n])), nil
}

// commonTypes pins what a tray uploader mostly sends, so the stored type
// does not depend on the OS's MIME database (Windows says
// application/x-zip-compressed, minimal Linux images know only a few).
var commonTypes = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".bmp": "image/bmp", ".svg": "image/svg+xml",
	".heic": "image/heic", ".jxl": "image/jxl", ".ico": "image/x-icon", ".tif": "image/tiff", ".tiff": "image/tiff",
	".mp4": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska", ".mov": "video/quicktime",
	".avi": "video/x-msvideo", ".m4v": "video/mp4",
	".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav", ".flac": "audio/flac", ".m4a": "audio/mp4",
	".txt": "text/plain", ".log": "text/plain", ".md": "text/markdown", ".csv": "text/csv",
	".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript",
	".json": "application/json", ".xml": "application/xml", ".pdf": "application/pdf",
	".zip": "application/zip", ".gz": "application/gzip", ".tar": "application/x-tar",
	".7z": "application/x-7z-compressed", ".xz": "application/x-xz",
}

// bareType drops parameters such as "; charset=utf-8", as browsers do.
func bareType(t string) string {
	mt, _, err := mime.ParseMediaType(t)
	if err != nil {
		return ""
	}
	return mt
}

// encodeFilename percent-encodes a name the way the server decodes it
// (decodeURIComponent); the dot stays, so the extension is still seen.
func encodeFilename(name string) string { return url.PathEscape(name) }

// headers turns the options into x-zipline-* headers; booleans are the
// exact string "true" the server looks for.
func (o UploadOptions) headers() (http.Header, error) {
	h := http.Header{}
	set := func(k, v string) error {
		if v == "" {
			return nil
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("upload option %s must be on one line", k)
		}
		h.Set(k, v)
		return nil
	}
	if o.CompressionPercent != nil {
		if *o.CompressionPercent < 0 || *o.CompressionPercent > 100 {
			return nil, fmt.Errorf("image compression must be between 0 and 100 percent, not %d", *o.CompressionPercent)
		}
		h.Set("X-Zipline-Image-Compression-Percent", strconv.Itoa(*o.CompressionPercent))
	}
	if o.MaxViews < 0 {
		return nil, fmt.Errorf("max views must be positive, not %d", o.MaxViews)
	}
	if o.MaxViews > 0 {
		h.Set("X-Zipline-Max-Views", strconv.Itoa(o.MaxViews))
	}
	if o.OriginalName {
		h.Set("X-Zipline-Original-Name", "true")
	}
	if o.Extensionless {
		h.Set("X-Zipline-Extensionless", "true")
	}
	filename := o.Filename
	if needsEncoding(filename) {
		filename = encodeFilename(filename)
	}
	for _, kv := range [][2]string{
		{"X-Zipline-Format", o.Format},
		{"X-Zipline-Deletes-At", o.DeletesAt},
		{"X-Zipline-Image-Compression-Type", o.CompressionType},
		{"X-Zipline-Password", o.Password},
		{"X-Zipline-Folder", o.Folder},
		{"X-Zipline-Filename", filename},
		{"X-Zipline-File-Extension", o.FileExtension},
		{"X-Zipline-Domain", o.Domain},
	} {
		if err := set(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f || s[i] == '%' {
			return true
		}
	}
	return false
}

// part is one file part of a multipart body.
type part struct {
	header textproto.MIMEHeader
	size   int64
	open   func() (io.ReadCloser, error)
	// slice is a chunk of a longer stream: more bytes after size are fine.
	slice bool
	// unchanged, if set, is asked once the part's bytes are read.
	unchanged func() error
}

func filePart(name, contentType string, size int64, open func() (io.ReadCloser, error)) part {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+encodeFilename(name)+`"`)
	h.Set("Content-Type", contentType)
	return part{header: h, size: size, open: open}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// multipartLength is the exact body length: the framing does not depend
// on the content, so a dry run without content plus the sizes gives it.
func multipartLength(boundary string, parts []part) int64 {
	cw := &countWriter{}
	mw := multipart.NewWriter(cw)
	_ = mw.SetBoundary(boundary)
	for _, p := range parts {
		_, _ = mw.CreatePart(p.header)
		cw.n += p.size
	}
	_ = mw.Close()
	return cw.n
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// progressReader counts what has been read and hides os.File's WriterTo,
// so copies go through our buffer and get counted.
type progressReader struct {
	r    io.Reader
	n    int64
	tick func(n int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.n += int64(n)
		if p.tick != nil {
			p.tick(int64(n))
		}
	}
	return n, err
}

// writeParts streams the parts into mw; tick is told each block of file
// bytes as it goes out.
func writeParts(mw *multipart.Writer, parts []part, tick func(int64)) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	for _, p := range parts {
		w, err := mw.CreatePart(p.header)
		if err != nil {
			return err
		}
		if err := copyPart(w, p, *bp, tick); err != nil {
			return err
		}
	}
	return mw.Close()
}

func copyPart(w io.Writer, p part, buf []byte, tick func(int64)) error {
	r, err := p.open()
	if err != nil {
		return err
	}
	defer r.Close()
	pr := &progressReader{r: r, tick: tick}
	if _, err := io.CopyBuffer(w, io.LimitReader(pr, p.size), buf); err != nil {
		return err
	}
	if pr.n < p.size {
		return fmt.Errorf("%w (expected %d bytes, read %d)", ErrFileChanged, p.size, pr.n)
	}
	if !p.slice {
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			return fmt.Errorf("%w (it grew past %d bytes)", ErrFileChanged, p.size)
		}
	}
	if p.unchanged != nil {
		return p.unchanged()
	}
	return nil
}

// expectContinueMin is the body size from which uploads ask for
// 100-continue (curl's threshold).
const expectContinueMin = 1 << 20

// errBodyDone stops the body writer once the answer is in.
var errBodyDone = errors.New("request finished")

// postMultipart streams parts to path through a pipe, with an exact
// Content-Length, and returns the status, headers and (bounded) body.
func (c *Client) postMultipart(ctx context.Context, path string, hdr http.Header, parts []part, tick func(int64)) (*http.Response, []byte, error) {
	boundary := multipart.NewWriter(io.Discard).Boundary()
	length := multipartLength(boundary, parts)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	_ = mw.SetBoundary(boundary)
	werr := make(chan error, 1)
	// No progress once the writer is left behind, and none still running
	// when Upload returns: the caller's callback state is its own again.
	var tickMu sync.Mutex
	gaveUp := false
	guarded := func(n int64) {
		tickMu.Lock()
		defer tickMu.Unlock()
		if tick != nil && !gaveUp {
			tick(n)
		}
	}
	go func() {
		err := writeParts(mw, parts, guarded)
		werr <- err // first: whoever sees the body fail finds why here
		pw.CloseWithError(err)
	}()
	// finish ends the body and returns the writer's error: waiting for it
	// after a complete body, otherwise only if it is there. A writer stuck
	// reading its source (a hung network share) would never come back; it
	// ends on its own once the read returns, onto the closed pipe.
	finish := func(wait bool) error {
		pr.CloseWithError(errBodyDone)
		var err error
		if wait {
			err = <-werr
		} else {
			select {
			case err = <-werr:
			default:
				tickMu.Lock()
				gaveUp = true
				tickMu.Unlock()
				return nil
			}
		}
		if errors.Is(err, errBodyDone) || errors.Is(err, io.ErrClosedPipe) {
			return nil
		}
		return err
	}
	// On cancel the transport waits for its body read to return before
	// Do does: end that read, as the writer may be stuck in its source.
	defer context.AfterFunc(ctx, func() { pr.CloseWithError(context.Cause(ctx)) })()
	req, err := c.newRequest(ctx, http.MethodPost, path, nil, pr, true)
	if err != nil {
		_ = finish(false)
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if length > expectContinueMin {
		// Like curl: a proxy that refuses the body (413) says so before it
		// is sent, instead of resetting the connection halfway through,
		// which would look like a network failure worth retrying.
		req.Header.Set("Expect", "100-continue")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		werr := finish(false)
		if cerr := ctx.Err(); cerr != nil {
			return nil, nil, cerr // not the closed pipe it caused
		}
		if werr != nil {
			return nil, nil, werr
		}
		return nil, nil, err
	}
	limit := int64(maxJSONBody)
	if resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, limit))
	resp.Body.Close()
	// A success means the server read the whole body, which ends only
	// after the writer's last check: its answer is there or nearly.
	if werr := finish(resp.StatusCode < 300); werr != nil && resp.StatusCode < 300 {
		return nil, nil, werr
	}
	if rerr != nil {
		return nil, nil, fmt.Errorf("reading the answer: %w", rerr)
	}
	return resp, body, nil
}

// uploadReply is the answer of /api/upload and /api/upload/partial.
type uploadReply struct {
	Files             []UploadedFile
	PartialSuccess    bool
	PartialIdentifier string
	PartialToken      string
}

// parseUploadReply reads an upload answer: v4 JSON, v3's list of URL
// strings, or the text/plain list of URLs of x-zipline-no-json.
func parseUploadReply(body []byte) (*uploadReply, error) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return nil, errors.New("empty answer")
	}
	if t[0] != '{' {
		if s := string(t); strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
			out := &uploadReply{}
			for _, u := range strings.Split(s, ",") {
				out.Files = append(out.Files, UploadedFile{URL: strings.TrimSpace(u)})
			}
			return out, nil
		}
		return nil, errors.New("answer is not JSON")
	}
	var raw struct {
		Files             []json.RawMessage `json:"files"`
		DeletesAt         json.RawMessage   `json:"deletesAt"`
		PartialSuccess    bool              `json:"partialSuccess"`
		PartialIdentifier string            `json:"partialIdentifier"`
		PartialToken      string            `json:"partialToken"`
	}
	if err := json.Unmarshal(t, &raw); err != nil {
		return nil, err
	}
	out := &uploadReply{PartialSuccess: raw.PartialSuccess, PartialIdentifier: raw.PartialIdentifier, PartialToken: raw.PartialToken}
	deletesAt := jsonString(raw.DeletesAt)
	for _, f := range raw.Files {
		var uf UploadedFile
		if s := jsonString(f); s != "" {
			uf.URL = s
		} else if err := json.Unmarshal(f, &uf); err != nil {
			return nil, fmt.Errorf("file entry: %w", err)
		}
		uf.DeletesAt = deletesAt
		out.Files = append(out.Files, uf)
	}
	return out, nil
}

// uploadError is the *APIError of a failed upload request, with the
// "no files" answer that follows a too-large part recognised.
func (c *Client) uploadError(resp *http.Response, body []byte, opts UploadOptions, sent int64) *APIError {
	e := parseError(resp, body, c.token, opts.Password)
	if resp.StatusCode == 400 && sent > 0 && (e.Code == 1062 || e.Code == 0 && strings.Contains(strings.ToLower(e.Message), "no files")) {
		e.tooLarge = true
		e.Message += " (the server drops files over its size limit)"
	}
	return e
}

// Upload sends one file, chunked when the server's limits say so, and returns
// once the server has the whole file (for chunked uploads it waits for COMPLETE).
// If every chunk went through but waiting for COMPLETE failed, the file is
// returned with Pending set alongside the error: its URL may still work.
// Progress is called from another goroutine.
func (c *Client) Upload(ctx context.Context, u Upload, opts UploadOptions, p Progress) (*UploadedFile, error) {
	if u.Open == nil {
		return nil, fmt.Errorf("upload %s: nothing to read (Upload.Open is nil)", u.Name)
	}
	if u.Size < 0 {
		return nil, fmt.Errorf("upload %s: unknown size", u.Name)
	}
	lim, err := c.Limits(ctx)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", u.Name, err)
	}
	if u.Size > lim.MaxFileSize {
		return nil, fmt.Errorf("upload: %w", &TooLargeError{Name: u.Name, Size: u.Size, Limit: lim.MaxFileSize})
	}
	if u.ContentType, err = detectType(u); err != nil {
		return nil, fmt.Errorf("upload %s: %w", u.Name, err)
	}
	hdr, err := opts.headers()
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", u.Name, err)
	}
	if lim.ChunksEnabled && lim.ChunkSize > 0 && u.Size >= lim.ChunkMin {
		f, err := c.uploadChunked(ctx, u, lim, hdr, opts, p)
		if err != nil {
			return f, fmt.Errorf("upload %s: %w", u.Name, err)
		}
		return f, nil
	}
	files, err := c.uploadParts(ctx, []Upload{u}, hdr, opts, p)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", u.Name, err)
	}
	return &files[0], nil
}

// UploadMany sends small files in one multipart request.
func (c *Client) UploadMany(ctx context.Context, us []Upload, opts UploadOptions, p Progress) ([]UploadedFile, error) {
	if len(us) == 0 {
		return nil, nil
	}
	lim, err := c.Limits(ctx)
	if err != nil {
		return nil, fmt.Errorf("upload %d files: %w", len(us), err)
	}
	for i := range us {
		u := &us[i]
		switch {
		case u.Open == nil || u.Size < 0:
			return nil, fmt.Errorf("upload %s: nothing to read", u.Name)
		case u.Size > lim.MaxFileSize:
			return nil, fmt.Errorf("upload: %w", &TooLargeError{Name: u.Name, Size: u.Size, Limit: lim.MaxFileSize})
		case lim.ChunksEnabled && u.Size >= lim.ChunkMin:
			return nil, fmt.Errorf("upload %s: it needs a chunked upload; send it on its own with Upload", u.Name)
		}
		if u.ContentType, err = detectType(*u); err != nil {
			return nil, fmt.Errorf("upload %s: %w", u.Name, err)
		}
	}
	hdr, err := opts.headers()
	if err != nil {
		return nil, fmt.Errorf("upload %d files: %w", len(us), err)
	}
	files, err := c.uploadParts(ctx, us, hdr, opts, p)
	if err != nil {
		return nil, fmt.Errorf("upload %d files: %w", len(us), err)
	}
	return files, nil
}

func (c *Client) uploadParts(ctx context.Context, us []Upload, hdr http.Header, opts UploadOptions, p Progress) ([]UploadedFile, error) {
	parts := make([]part, len(us))
	var total int64
	for i, u := range us {
		parts[i] = filePart(u.Name, u.ContentType, u.Size, u.Open)
		parts[i].unchanged = u.Unchanged
		total += u.Size
	}
	var sent int64
	tick := func(n int64) {
		sent += n
		if p != nil {
			p(sent, total)
		}
	}
	resp, body, err := c.postMultipart(ctx, "/api/upload", hdr, parts, tick)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.uploadError(resp, body, opts, total)
	}
	r, err := parseUploadReply(body)
	if err != nil {
		return nil, c.badAnswer(resp, body)
	}
	if len(r.Files) != len(us) {
		return nil, fmt.Errorf("%w (%d for %d)", ErrFileCount, len(r.Files), len(us))
	}
	return r.Files, nil
}
