package ziplinetest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Folder is a handle on a folder of the fake server.
type Folder struct {
	ID   string
	Name string
}

// FolderOptions are a folder's flags.
type FolderOptions struct {
	Public       bool
	AllowUploads bool // anonymous (and, from 4.7, other users') uploads
}

type folderRec struct {
	id, name             string
	owner                *userRec
	public, allowUploads bool
	createdAt            time.Time
}

// AddFolder creates a folder owned by username.
func (s *Server) AddFolder(username, name string, o FolderOptions) (*Folder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName[username]
	if u == nil {
		return nil, errNoUser(username)
	}
	f := &folderRec{id: newID(), name: name, owner: u, public: o.Public, allowUploads: o.AllowUploads, createdAt: time.Now()}
	s.folders = append(s.folders, f)
	return &Folder{ID: f.id, Name: name}, nil
}

// folderByID: called with s.mu held.
func (s *Server) folderByID(id string) *folderRec {
	for _, f := range s.folders {
		if f.id == id {
			return f
		}
	}
	return nil
}

// folderJSON is a Folder object. Called with s.mu held.
func (s *Server) folderJSON(f *folderRec, withFiles bool) orderedMap {
	var files []orderedMap
	for _, x := range s.files {
		if x.FolderID == f.id && x.Complete {
			files = append(files, s.fileJSON(x, true))
		}
	}
	m := orderedMap{{"id", f.id}, {"createdAt", isoTime(f.createdAt)}, {"updatedAt", isoTime(f.createdAt)},
		{"name", f.name}, {"public", f.public}, {"allowUploads", f.allowUploads}, {"userId", f.owner.id},
		{"parentId", nil}, {"parent", nil}}
	if !withFiles {
		return append(m, kv{"_count", orderedMap{{"children", 0}, {"files", len(files)}}})
	}
	if files == nil {
		files = []orderedMap{}
	}
	return append(m, kv{"files", files})
}

func (s *Server) handleFolders(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	noincl := r.URL.Query().Get("noincl") == "true"
	s.mu.Lock()
	list := []orderedMap{}
	for i := len(s.folders) - 1; i >= 0; i-- {
		if f := s.folders[i]; f.owner == u {
			list = append(list, s.folderJSON(f, !noincl))
		}
	}
	s.mu.Unlock()
	writeJSON(w, 200, list)
}

func (s *Server) handleFolderGet(w http.ResponseWriter, r *http.Request, p params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	s.mu.Lock()
	f := s.folderByID(p["id"])
	var body orderedMap
	if f != nil && f.owner == u {
		body = s.folderJSON(f, true)
	}
	s.mu.Unlock()
	if body == nil {
		s.writeErr(w, zerr(4001, "").old("Folder not found"))
		return
	}
	writeJSON(w, 200, body)
}

func (s *Server) handleFolderCreate(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	if res, on := s.folderRL.take(u.id + "-" + r.URL.RequestURI() + "-POST"); on {
		if res.limited {
			drain(r)
			res.write429(w)
			return
		}
		res.setHeaders(w)
	}
	var body struct {
		Name     *string `json:"name"`
		IsPublic bool    `json:"isPublic"`
	}
	present, ok := s.readJSON(w, r, &body)
	if !ok {
		return
	}
	if !present || body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		s.schemaErr(w, "name", "Required")
		return
	}
	s.mu.Lock()
	f := &folderRec{id: newID(), name: strings.TrimSpace(*body.Name), owner: u, public: body.IsPublic, createdAt: time.Now()}
	s.folders = append(s.folders, f)
	out := s.folderJSON(f, true)
	s.mu.Unlock()
	writeJSON(w, 200, out)
}

type urlRec struct {
	id, code, vanity, destination string
	owner                         *userRec
	maxViews, views               int
	enabled                       bool
	password                      string
	createdAt                     time.Time
}

// ShortURL is what the server recorded about a shortened URL.
type ShortURL struct {
	ID, Code, Vanity, Destination, Owner string
	MaxViews                             int
}

// URLs returns every shortened URL, oldest first.
func (s *Server) URLs() []ShortURL {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ShortURL
	for _, x := range s.urls {
		out = append(out, ShortURL{ID: x.id, Code: x.code, Vanity: x.vanity, Destination: x.destination, Owner: x.owner.username, MaxViews: x.maxViews})
	}
	return out
}

func (s *Server) urlJSON(r *http.Request, x *urlRec, domains []string) orderedMap {
	var vanity, maxViews any
	if x.vanity != "" {
		vanity = x.vanity
	}
	if x.maxViews > 0 {
		maxViews = x.maxViews
	}
	key := x.code
	if x.vanity != "" {
		key = x.vanity
	}
	return orderedMap{{"id", x.id}, {"createdAt", isoTime(x.createdAt)}, {"updatedAt", isoTime(x.createdAt)},
		{"code", x.code}, {"vanity", vanity}, {"destination", x.destination}, {"views", x.views},
		{"maxViews", maxViews}, {"enabled", x.enabled}, {"userId", x.owner.id},
		{"url", s.fileURL(r, &uploadOpts{domains: domains}, key, "/go")}}
}

func (s *Server) handleURLsGet(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	s.mu.Lock()
	list := []orderedMap{}
	for i := len(s.urls) - 1; i >= 0; i-- {
		if s.urls[i].owner == u {
			list = append(list, s.urlJSON(r, s.urls[i], nil))
		}
	}
	s.mu.Unlock()
	writeJSON(w, 200, list)
}

var reservedVanity = []string{"dashboard", "api", "raw", "u", "go", "view", "auth", "folder", "invite", "reset"}

func (s *Server) handleURLsPost(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	if !s.rateLimitUpload(w, r, u, false) {
		return
	}
	var body struct {
		Destination *string         `json:"destination"`
		Vanity      *string         `json:"vanity"`
		Enabled     json.RawMessage `json:"enabled"`
	}
	present, ok := s.readJSON(w, r, &body)
	if !ok {
		return
	}
	if !present || body.Destination == nil {
		s.schemaErr(w, "destination", "Required")
		return
	}
	dst, err := url.Parse(*body.Destination)
	if err != nil || (dst.Scheme != "http" && dst.Scheme != "https") || dst.Host == "" {
		s.schemaErr(w, "destination", "Invalid url")
		return
	}
	vanity := ""
	if body.Vanity != nil {
		vanity = *body.Vanity
		first := strings.SplitN(strings.TrimPrefix(vanity, "/"), "/", 2)[0]
		bad := len(vanity) > 100 || strings.HasPrefix(vanity, "/")
		for _, rv := range reservedVanity {
			bad = bad || first == rv
		}
		if bad {
			s.schemaErr(w, "vanity", "Invalid vanity")
			return
		}
	}
	noJSON := false
	if v, ok := r.Header["X-Zipline-No-Json"]; ok {
		switch v[0] {
		case "true":
			noJSON = true
		case "false":
		default:
			if s.ver.atLeast(4, 5, 0) {
				s.schemaErr(w, "x-zipline-no-json", "Invalid enum value. Expected 'true' | 'false'")
				return
			}
			noJSON = true // 4.0: any value meant true
		}
	}
	maxViews := 0
	if v := r.Header.Get("X-Zipline-Max-Views"); v != "" {
		n, err := parseIntStrict(v)
		if err != nil || n < 1 {
			s.schemaErr(w, "x-zipline-max-views", "Number must be greater than or equal to 1")
			return
		}
		maxViews = n
	}
	var domains []string
	if v := r.Header.Get("X-Zipline-Domain"); v != "" {
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				domains = append(domains, d)
			}
		}
	}
	s.mu.Lock()
	if vanity != "" {
		for _, x := range s.urls {
			if x.vanity == vanity || x.code == vanity {
				s.mu.Unlock()
				s.writeErr(w, zerr(1042, "").old("Vanity already taken"))
				return
			}
		}
	}
	if u.quota != nil && u.quota.MaxURLs > 0 {
		n := 0
		for _, x := range s.urls {
			if x.owner == u {
				n++
			}
		}
		if n+1 > u.quota.MaxURLs {
			s.mu.Unlock()
			s.writeErr(w, zerr(3012, "Shortening this URL would exceed your quota of "+itoa(u.quota.MaxURLs)+" URLs"))
			return
		}
	}
	x := &urlRec{id: newID(), code: randString(6, alnum), vanity: vanity, destination: *body.Destination,
		owner: u, maxViews: maxViews, enabled: string(body.Enabled) != "false", password: r.Header.Get("X-Zipline-Password"), createdAt: time.Now()}
	s.urls = append(s.urls, x)
	out := s.urlJSON(r, x, domains)
	s.mu.Unlock()
	if noJSON {
		writeRaw(w, 200, "text/plain", []byte(out[len(out)-1].v.(string)))
		return
	}
	writeJSON(w, 200, out)
}

func (s *Server) handleGo(w http.ResponseWriter, r *http.Request, p params) {
	s.mu.Lock()
	var dst string
	for _, x := range s.urls {
		if (x.code == p["code"] || x.vanity == p["code"]) && x.enabled {
			x.views++
			dst = x.destination
		}
	}
	s.mu.Unlock()
	if dst == "" {
		writeRaw(w, 404, "text/plain; charset=utf-8", []byte("Not Found"))
		return
	}
	http.Redirect(w, r, dst, http.StatusFound)
}
