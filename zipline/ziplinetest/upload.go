package ziplinetest

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const maxFilesPerUpload = 1000

// rateLimitUpload applies the upload limit (§3.5) to the authenticated
// caller u (nil: anonymous folder upload, keyed by IP). It runs after
// userMiddleware, so a 401 carries no x-ratelimit headers (transcripts).
// exempt marks chunk continuations. false means a 429 was written.
func (s *Server) rateLimitUpload(w http.ResponseWriter, r *http.Request, u *userRec, exempt bool) bool {
	if exempt {
		return true
	}
	if u != nil && u.role != RoleUser {
		return true // adminBypass
	}
	key := remoteIP(r)
	if u != nil {
		key = u.id
	}
	res, on := s.uploadRL.take(key + "-" + r.URL.RequestURI() + "-" + r.Method)
	if !on {
		return true
	}
	if res.limited {
		drain(r)
		res.write429(w)
		return false
	}
	res.setHeaders(w)
	return true
}

// checkFolder applies the folder rules for an upload. Called without s.mu.
func (s *Server) checkFolder(u *userRec, id string) *apiErr {
	if id == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.folderByID(id)
	switch {
	case f == nil:
		return zerr(4001, "").old("Folder not found")
	case u == nil && !f.allowUploads:
		return zerr(3002, "").old("Folder is not open")
	case u != nil && f.owner != u && !f.allowUploads && s.ver.atLeast(4, 7, 0):
		return zerr(3011, "")
	}
	return nil
}

// multipartReader checks the content type like Fastify + @fastify/multipart.
func (s *Server) multipartReader(w http.ResponseWriter, r *http.Request) (*multipartBody, bool) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			drain(r)
			s.writeErr(w, zerr(1061, ""))
			return nil, false
		}
		return &multipartBody{mr: mr, body: r.Body}, true
	case ct == "" || mt == "application/json" || mt == "text/plain":
		if hasJSONType(r) && bodyEmpty(r) {
			writePlainErr(w, 400, "Body cannot be empty when content-type is set to 'application/json'")
			return nil, false
		}
		drain(r)
		s.writeErr(w, zerr(1062, "").old("No files in multipart/form-data request"))
		return nil, false
	default:
		drain(r)
		writePlainErr(w, 415, "Unsupported Media Type: "+ct)
		return nil, false
	}
}

// received is one file part as stored.
type received struct {
	rc       *receiver
	filename string // decoded
	mime     string
	over     bool
}

func (rv *received) discard() { rv.rc.discard() }

var errBadName = errors.New("bad filename")

// receiveParts streams every file part of a multipart body to disk or a
// hash. maxParts 1 is the partial-upload rule (E1005).
func (s *Server) receiveParts(mb *multipartBody, limit int64, maxParts int, extra io.Writer) ([]*received, *apiErr) {
	var parts []*received
	fail := func(e *apiErr) ([]*received, *apiErr) {
		for _, p := range parts {
			p.discard()
		}
		io.Copy(io.Discard, mb.rest())
		return nil, e
	}
	for {
		part, err := mb.mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(zerr(1061, "Multipart: "+err.Error()))
		}
		if part.FileName() == "" {
			io.Copy(io.Discard, part)
			continue
		}
		if len(parts) >= maxParts {
			if maxParts == 1 {
				return fail(zerr(1005, "").old("partial uploads only support one file field"))
			}
			return fail(zerr(1062, "too many files").old("too many files"))
		}
		name, ok := decodeFilename(part.FileName())
		if !ok {
			return fail(zerr(1009, "invalid file name: make sure it is URL encoded").old("invalid file name: make sure it is URL encoded"))
		}
		typ := part.Header.Get("Content-Type")
		if typ == "" {
			typ = "text/plain" // busboy's default
		}
		rc, err := s.newReceiver("part-" + newID())
		if err != nil {
			return fail(zerr(9004, "store: "+err.Error()))
		}
		rc.extra = extra
		rv := &received{rc: rc, filename: name, mime: typ}
		parts = append(parts, rv)
		over, err := rc.copyLimited(part, limit)
		if cerr := rc.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fail(zerr(1061, "Multipart: "+err.Error()))
		}
		rv.over = over
	}
	for _, p := range parts {
		if p.over {
			// The multipart limit truncates the part and the error is
			// swallowed: the server reports "no files" (§3.4).
			return fail(zerr(1062, "").old("No files in multipart/form-data request"))
		}
	}
	if len(parts) == 0 {
		return fail(zerr(1062, "").old("No files in multipart/form-data request"))
	}
	return parts, nil
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, _ params) {
	exempt := r.Header.Get("X-Zipline-P-Filename") != "" && !s.ver.atLeast(4, 8, 0)
	u, _, ok := s.authenticate(w, r, true)
	if !ok {
		return
	}
	if !s.rateLimitUpload(w, r, u, exempt) {
		return
	}
	if r.Header.Get("Content-Range") != "" {
		if !s.ver.atLeast(4, 2, 2) {
			if !s.cfg.ChunksDisabled {
				s.handlePartialA(w, r, u)
				return
			}
		} else {
			drain(r)
			s.writeErr(w, zerr(1001, "bad options, receieved: partial upload"))
			return
		}
	}
	o, e := s.parseOptions(r.Header)
	if e == nil {
		e = s.checkFolder(u, o.folder)
	}
	if e != nil {
		drain(r)
		s.writeErr(w, e)
		return
	}
	mb, ok := s.multipartReader(w, r)
	if !ok {
		return
	}
	parts, e := s.receiveParts(mb, s.maxFileSize, maxFilesPerUpload, nil)
	if e != nil {
		s.writeErr(w, e)
		return
	}
	files, e := s.storeFiles(r, u, o, parts, false)
	if e != nil {
		s.writeErr(w, e)
		return
	}
	s.writeUploadResponse(w, o, files, false)
}

// quotaErr checks the user's quota for adding n files of total bytes.
// Called with s.mu held.
func (s *Server) quotaErr(u *userRec, n int, bytes int64) *apiErr {
	if u == nil || u.quota == nil {
		return nil
	}
	var count int
	var used int64
	for _, f := range s.files {
		if f.owner == u {
			count++
			used += f.Size
		}
	}
	q := u.quota
	if q.MaxFiles > 0 && count+n > q.MaxFiles {
		return zerr(5002, "uploading will exceed your file count quota of "+itoa(q.MaxFiles)+" files")
	}
	if q.MaxBytes > 0 && used+bytes > q.MaxBytes {
		return zerr(5002, "uploading will exceed your storage quota of "+itoa64(q.MaxBytes)+" bytes")
	}
	return nil
}

// storeFiles names and records received parts; on error every part is
// discarded.
func (s *Server) storeFiles(r *http.Request, u *userRec, o *uploadOpts, parts []*received, chunked bool) ([]*fileRec, *apiErr) {
	discardAll := func() {
		for _, p := range parts {
			p.discard()
		}
	}
	now := time.Now()
	s.mu.Lock()
	var total int64
	for _, p := range parts {
		total += p.rc.n
	}
	if e := s.quotaErr(u, len(parts), total); e != nil {
		s.mu.Unlock()
		discardAll()
		return nil, e
	}
	names := make([]string, len(parts))
	reserved := map[string]bool{}
	for i, p := range parts {
		n, e := s.makeName(o, i, p.filename, now, reserved)
		reserved[n] = true
		if e != nil {
			s.mu.Unlock()
			discardAll()
			return nil, e
		}
		names[i] = n
	}
	var out []*fileRec
	for i, p := range parts {
		f := &fileRec{owner: u, updatedAt: now, never: o.never}
		f.ID = newID()
		f.Name = names[i]
		f.Filename = p.filename
		if o.originalName {
			f.OriginalName = p.filename
		}
		f.Type = p.mime
		f.Size = p.rc.n
		f.SHA256 = p.rc.sum()
		f.Options = o.raw.Clone()
		if u != nil {
			f.Owner = u.username
		}
		f.FolderID = o.folder
		f.Password = o.password
		f.MaxViews = o.maxViews
		if o.deletesAt != nil {
			f.DeletesAt = *o.deletesAt
		}
		f.Chunked = chunked
		f.Complete = !chunked
		f.CreatedAt = now
		f.URL = s.fileURL(r, o, f.Name, "/u")
		if p.rc.path != "" {
			final := filepath.Join(s.storeDir, f.ID)
			if err := os.Rename(p.rc.path, final); err == nil {
				f.Path = final
			}
		}
		s.files = append(s.files, f)
		out = append(out, f)
	}
	s.notify()
	s.mu.Unlock()
	return out, nil
}

func (s *Server) writeUploadResponse(w http.ResponseWriter, o *uploadOpts, files []*fileRec, pending bool) {
	if o.noJSON {
		urls := make([]string, len(files))
		for i, f := range files {
			urls[i] = f.URL
		}
		writeRaw(w, 200, "text/plain", []byte(strings.Join(urls, ",")))
		return
	}
	list := []orderedMap{}
	for _, f := range files {
		m := orderedMap{{"id", f.ID}}
		if s.ver.atLeast(4, 3, 2) {
			m = append(m, kv{"name", f.Name})
		}
		m = append(m, kv{"type", f.Type}, kv{"url", f.URL})
		if pending {
			m = append(m, kv{"pending", true})
		}
		list = append(list, m)
	}
	body := orderedMap{{"files", list}}
	if o.never {
		body = append(body, kv{"deletesAt", "never"})
	} else if o.deletesAt != nil {
		body = append(body, kv{"deletesAt", isoTime(*o.deletesAt)})
	}
	if pending {
		body = append(body, kv{"partialSuccess", true})
	}
	writeJSON(w, 200, body)
}
