package ziplinetest

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// File is what the server recorded about one stored file.
type File struct {
	ID   string
	Name string // stored name, with extension
	// Filename is the client's multipart filename (percent-decoded), or
	// x-zipline-p-filename for chunked uploads.
	Filename string
	// OriginalName is what the server keeps as originalName: Filename when
	// x-zipline-original-name was true, else "".
	OriginalName string
	Type         string // MIME type as stored
	Size         int64
	SHA256       string // hex
	// Options holds every x-zipline-* header of the upload request.
	Options   http.Header
	Owner     string // username; "" for an anonymous folder upload
	FolderID  string
	Password  string
	MaxViews  int
	DeletesAt time.Time // zero: no expiry
	Chunked   bool
	// Complete is false while a chunked upload is still being assembled.
	Complete  bool
	Path      string // bytes on disk; "" with HashOnly
	URL       string // the absolute URL the upload response gave
	CreatedAt time.Time
}

type fileRec struct {
	File
	owner     *userRec
	views     int
	updatedAt time.Time
	never     bool
}

// Files returns every stored file, oldest first.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]File, 0, len(s.files))
	for _, f := range s.files {
		c := f.File
		c.Options = f.Options.Clone()
		out = append(out, c)
	}
	return out
}

// FileByName returns the stored file with that name.
func (s *Server) FileByName(name string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fileByName(name)
	if f == nil {
		return File{}, false
	}
	c := f.File
	c.Options = f.Options.Clone()
	return c, true
}

// fileByName: called with s.mu held.
func (s *Server) fileByName(name string) *fileRec {
	for _, f := range s.files {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// fileByIDOrName finds a file of owner u (admins see all). Called with s.mu held.
func (s *Server) fileFor(u *userRec, idOrName string) *fileRec {
	for _, f := range s.files {
		if f.ID != idOrName && f.Name != idOrName {
			continue
		}
		if f.owner == u || (u.role != RoleUser && (f.owner == nil || rank(u.role) > rank(f.owner.role))) {
			return f
		}
	}
	return nil
}

func rank(r Role) int {
	switch r {
	case RoleSuperAdmin:
		return 2
	case RoleAdmin:
		return 1
	}
	return 0
}

// receiver streams one body into a hash and, unless HashOnly, a file.
type receiver struct {
	f     *os.File
	h     hash.Hash
	extra io.Writer // also fed, e.g. a chunked upload's running hash
	n     int64
	path  string
}

func (s *Server) newReceiver(name string) (*receiver, error) {
	rc := &receiver{h: sha256.New()}
	if s.storeDir != "" {
		p := filepath.Join(s.storeDir, name)
		f, err := os.Create(p)
		if err != nil {
			return nil, err
		}
		rc.f, rc.path = f, p
	}
	return rc, nil
}

func (rc *receiver) Write(p []byte) (int, error) {
	rc.h.Write(p)
	if rc.extra != nil {
		rc.extra.Write(p)
	}
	rc.n += int64(len(p))
	if rc.f != nil {
		return rc.f.Write(p)
	}
	return len(p), nil
}

// copyLimited copies up to limit bytes of src; over is true (and the rest
// of src is discarded) when src has more.
func (rc *receiver) copyLimited(src io.Reader, limit int64) (over bool, err error) {
	n, err := io.Copy(rc, io.LimitReader(src, limit))
	if err != nil {
		return false, err
	}
	if n == limit {
		extra, err := io.Copy(io.Discard, src)
		if err != nil {
			return false, err
		}
		return extra > 0, nil
	}
	return false, nil
}

func (rc *receiver) sum() string { return hex.EncodeToString(rc.h.Sum(nil)) }

func (rc *receiver) close() error {
	if rc.f != nil {
		return rc.f.Close()
	}
	return nil
}

func (rc *receiver) discard() {
	if rc.f != nil {
		rc.f.Close()
		os.Remove(rc.path)
	}
}

// fileURL builds the absolute URL of a stored name (§3.3).
func (s *Server) fileURL(r *http.Request, o *uploadOpts, name, route string) string {
	scheme := "http"
	if s.cfg.ReturnHTTPS {
		scheme = "https"
	}
	host := r.Host
	if s.cfg.DefaultDomain != "" {
		host = s.cfg.DefaultDomain
	}
	if o != nil && len(o.domains) > 0 {
		host = o.domains[rand.IntN(len(o.domains))]
	}
	return scheme + "://" + host + route + "/" + encodeURI(name)
}

// fileJSON is the File object of listings (§4.1). Called with s.mu held.
func (s *Server) fileJSON(f *fileRec, withURL bool) orderedMap {
	opt := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	var maxViews, deletesAt any
	if f.MaxViews > 0 {
		maxViews = f.MaxViews
	}
	if !f.DeletesAt.IsZero() {
		deletesAt = isoTime(f.DeletesAt)
	}
	m := orderedMap{
		{"createdAt", isoTime(f.CreatedAt)}, {"updatedAt", isoTime(f.updatedAt)}, {"deletesAt", deletesAt},
		{"favorite", false}, {"id", f.ID}, {"originalName", opt(f.OriginalName)}, {"name", f.Name},
		{"size", f.Size}, {"type", f.Type}, {"views", f.views}, {"maxViews", maxViews},
		{"folderId", opt(f.FolderID)}, {"anonymous", f.owner == nil},
	}
	// The 4.6.3 transcript shows no "password" key for an unprotected file.
	if f.Password != "" {
		m = append(m, kv{"password", true})
	}
	m = append(m, kv{"thumbnail", nil}, kv{"tags", []any{}})
	if withURL {
		m = append(m, kv{"url", "/u/" + encodeURI(f.Name)})
	}
	return m
}

func (s *Server) handleServeFile(w http.ResponseWriter, r *http.Request, p params) {
	s.mu.Lock()
	f := s.fileByName(p["name"])
	var path, typ string
	if f != nil && f.Complete {
		expired := !f.DeletesAt.IsZero() && time.Now().After(f.DeletesAt)
		if expired || (f.MaxViews > 0 && f.views >= f.MaxViews) {
			s.removeFile(f) // deleteOnMaxViews, or the expiry task
		} else {
			path, typ = f.Path, f.Type
			f.views++
		}
	}
	s.mu.Unlock()
	s.serveBytes(w, r, path, typ)
}

func (s *Server) serveBytes(w http.ResponseWriter, r *http.Request, path, typ string) {
	if path == "" {
		writeRaw(w, 404, "text/plain; charset=utf-8", []byte("Not Found"))
		return
	}
	fh, err := os.Open(path)
	if err != nil {
		writeRaw(w, 404, "text/plain; charset=utf-8", []byte("Not Found"))
		return
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		writeRaw(w, 500, "text/plain; charset=utf-8", []byte("Internal Server Error"))
		return
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Accept-Ranges", "bytes")
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", "attachment; filename=\""+filepath.Base(path)+"\"")
	}
	http.ServeContent(w, r, "", time.Time{}, fh)
	_ = st
}

func (s *Server) handleFileRaw(w http.ResponseWriter, r *http.Request, p params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	s.mu.Lock()
	f := s.fileFor(u, p["id"])
	var path, typ string
	if f != nil {
		path, typ = f.Path, f.Type
	}
	s.mu.Unlock()
	if f == nil {
		s.writeErr(w, zerr(4000, "").old("File not found"))
		return
	}
	s.serveBytes(w, r, path, typ)
}

func (s *Server) handleFileGet(w http.ResponseWriter, r *http.Request, p params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	s.mu.Lock()
	f := s.fileFor(u, p["id"])
	var body orderedMap
	if f != nil {
		body = s.fileJSON(f, false)
	}
	s.mu.Unlock()
	if f == nil {
		s.writeErr(w, zerr(4000, "").old("File not found"))
		return
	}
	writeJSON(w, 200, body)
}

func (s *Server) handleFileDelete(w http.ResponseWriter, r *http.Request, p params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	s.mu.Lock()
	f := s.fileFor(u, p["id"])
	var body orderedMap
	if f != nil {
		body = s.fileJSON(f, false)
		s.removeFile(f)
	}
	s.mu.Unlock()
	if f == nil {
		s.writeErr(w, zerr(4000, "").old("File not found"))
		return
	}
	writeJSON(w, 200, body)
}

// removeFile deletes a file and its bytes. Called with s.mu held.
func (s *Server) removeFile(f *fileRec) {
	for i, g := range s.files {
		if g == f {
			s.files = append(s.files[:i:i], s.files[i+1:]...)
			s.notify()
			break
		}
	}
	if f.Path != "" {
		os.Remove(f.Path)
	}
}

// listable: complete files of u, newest first. Called with s.mu held.
func (s *Server) listable(u *userRec, includePending bool) []*fileRec {
	var out []*fileRec
	for i := len(s.files) - 1; i >= 0; i-- {
		f := s.files[i]
		if f.owner == u && (f.Complete || includePending) {
			out = append(out, f)
		}
	}
	return out
}

func (s *Server) handleRecent(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	take := 3
	if v := r.URL.Query().Get("take"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.schemaErr(w, "take", "Number must be between 1 and 100")
			return
		}
		take = n
	}
	s.mu.Lock()
	list := []orderedMap{}
	for _, f := range s.listable(u, true) {
		if len(list) == take {
			break
		}
		list = append(list, s.fileJSON(f, true))
	}
	s.mu.Unlock()
	writeJSON(w, 200, list)
}

func (s *Server) handleFiles(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	q := r.URL.Query()
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		s.schemaErr(w, "page", "Required")
		return
	}
	per := 15
	if !s.ver.atLeast(4, 1, 0) {
		per = 9
	}
	if v := q.Get("perpage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.schemaErr(w, "perpage", "Expected number")
			return
		}
		per = n
	}
	folder := q.Get("folder")
	s.mu.Lock()
	var all []*fileRec
	for _, f := range s.listable(u, false) {
		if folder == "" || f.FolderID == folder {
			all = append(all, f)
		}
	}
	list := []orderedMap{}
	for i := (page - 1) * per; i < len(all) && i < page*per; i++ {
		list = append(list, s.fileJSON(all[i], true))
	}
	s.mu.Unlock()
	pages := (len(all) + per - 1) / per
	writeJSON(w, 200, orderedMap{{"page", list}, {"total", len(all)}, {"pages", pages}})
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	s.mu.Lock()
	var n, views int
	var bytes int64
	types := orderedMap{}
	seen := map[string]int{}
	for _, f := range s.listable(u, false) {
		n++
		views += f.views
		bytes += f.Size
		if i, ok := seen[f.Type]; ok {
			types[i].v = types[i].v.(int) + 1
		} else {
			seen[f.Type] = len(types)
			types = append(types, kv{f.Type, 1})
		}
	}
	urls, urlViews := 0, 0
	for _, x := range s.urls {
		if x.owner == u {
			urls++
			urlViews += x.views
		}
	}
	s.mu.Unlock()
	avg := func(a float64) float64 {
		if n == 0 {
			return 0
		}
		return a / float64(n)
	}
	writeJSON(w, 200, orderedMap{{"filesUploaded", n}, {"favoriteFiles", 0}, {"views", views},
		{"avgViews", avg(float64(views))}, {"storageUsed", bytes}, {"avgStorageUsed", avg(float64(bytes))},
		{"urlsCreated", urls}, {"urlViews", urlViews}, {"sortTypeCount", types}})
}
