package ziplinetest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

type params map[string]string

type route struct {
	method, pattern string
	h               func(w http.ResponseWriter, r *http.Request, p params)
	// ownBody: the handler checks the body itself (after its rate limit,
	// which Fastify runs before parsing).
	ownBody bool
	// since is the first release with the route.
	since version
}

func (s *Server) routes() []route {
	v := func(a, b, c int) version { return version{a, b, c} }
	return []route{
		{method: "GET", pattern: "/api/healthcheck", h: s.handleHealth},
		{method: "GET", pattern: "/api/server/public", h: s.handlePublic, since: v(4, 3, 0)},
		{method: "GET", pattern: "/api/setup", h: s.handleSetupGet},
		{method: "POST", pattern: "/api/setup", h: s.handleSetupPost, ownBody: true},
		{method: "GET", pattern: "/api/version", h: s.handleVersion},
		{method: "POST", pattern: "/api/auth/login", h: s.handleLogin, ownBody: true},
		{method: "GET", pattern: "/api/auth/logout", h: s.handleLogout},
		{method: "GET", pattern: "/api/user", h: s.handleUser},
		{method: "GET", pattern: "/api/user/token", h: s.handleTokenGet},
		{method: "PATCH", pattern: "/api/user/token", h: s.handleTokenPatch, ownBody: true},
		{method: "GET", pattern: "/api/user/stats", h: s.handleStats},
		{method: "POST", pattern: "/api/upload", h: s.handleUpload, ownBody: true},
		{method: "POST", pattern: "/api/upload/partial", h: s.handlePartial, ownBody: true, since: v(4, 2, 2)},
		{method: "GET", pattern: "/api/user/files/incomplete", h: s.handleIncompleteGet},
		{method: "DELETE", pattern: "/api/user/files/incomplete", h: s.handleIncompleteDelete},
		{method: "GET", pattern: "/api/user/recent", h: s.handleRecent},
		{method: "GET", pattern: "/api/user/files", h: s.handleFiles},
		{method: "GET", pattern: "/api/user/files/:id", h: s.handleFileGet},
		{method: "DELETE", pattern: "/api/user/files/:id", h: s.handleFileDelete},
		{method: "GET", pattern: "/api/user/files/:id/raw", h: s.handleFileRaw, since: v(4, 3, 0)},
		{method: "GET", pattern: "/api/user/folders", h: s.handleFolders},
		{method: "POST", pattern: "/api/user/folders", h: s.handleFolderCreate, ownBody: true},
		{method: "GET", pattern: "/api/user/folders/:id", h: s.handleFolderGet},
		{method: "GET", pattern: "/api/user/urls", h: s.handleURLsGet},
		{method: "POST", pattern: "/api/user/urls", h: s.handleURLsPost, ownBody: true},
		{method: "GET", pattern: "/u/:name", h: s.handleServeFile},
		{method: "GET", pattern: "/raw/:name", h: s.handleServeFile},
		{method: "GET", pattern: "/go/:code", h: s.handleGo},
	}
}

func match(pattern, path string) (params, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) || strings.HasSuffix(path, "/") && path != "/" {
		return nil, false
	}
	var p params
	for i := range ps {
		if strings.HasPrefix(ps[i], ":") {
			if xs[i] == "" {
				return nil, false
			}
			if p == nil {
				p = params{}
			}
			p[ps[i][1:]] = xs[i]
			continue
		}
		if ps[i] != xs[i] {
			return nil, false
		}
	}
	return p, true
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet // Fastify exposes HEAD for every GET route
	}
	for _, rt := range s.routes() {
		if rt.method != method || !s.ver.atLeast(rt.since.major, rt.since.minor, rt.since.patch) {
			continue
		}
		p, ok := match(rt.pattern, r.URL.Path)
		if !ok {
			continue
		}
		if !rt.ownBody && !s.bodyOK(w, r) {
			return
		}
		rt.h(w, r, p)
		return
	}
	drain(r)
	if method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/api/") {
		s.serveFrontend(w, r)
		return
	}
	writeRouteNotFound(w, r)
}

// serveFrontend answers the web UI's paths: the PWA manifest and, for any
// other page, the single-page app's HTML shell.
func (s *Server) serveFrontend(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/manifest.json" {
		writeJSON(w, 200, orderedMap{{"name", "Zipline"}, {"short_name", "Zipline"}, {"start_url", "/dashboard"},
			{"display", "standalone"}, {"background_color", "#000000"}, {"theme_color", "#000000"}})
		return
	}
	writeRaw(w, 200, "text/html; charset=utf-8", []byte(`<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8" /><title>Zipline</title><link rel="manifest" href="/manifest.json" /></head><body><div id="root"></div></body></html>`))
}

// bodyOK applies Fastify's content-type parsing rules to a route that
// ignores its body: a JSON content type with an empty body is a 400.
func (s *Server) bodyOK(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || !hasJSONType(r) {
		return true
	}
	if bodyEmpty(r) {
		writePlainErr(w, 400, "Body cannot be empty when content-type is set to 'application/json'")
		return false
	}
	return true
}

// bodyEmpty reports whether r has no body bytes, without losing any.
func bodyEmpty(r *http.Request) bool {
	if r.ContentLength == 0 {
		return true
	}
	if r.ContentLength > 0 {
		return false
	}
	br := bufio.NewReader(r.Body)
	_, err := br.Peek(1)
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	return err != nil
}

// readJSON parses a JSON body into dst the way Fastify does. present is
// false when there is no body at all (Zod then rejects it); ok false means
// an answer was already written.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, dst any) (present, ok bool) {
	ct := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Type")))
	empty := bodyEmpty(r)
	switch {
	case ct == "" || empty && !hasJSONType(r):
		if !empty {
			drain(r)
			writePlainErr(w, 415, "Unsupported Media Type")
			return false, false
		}
		return false, true
	case hasJSONType(r):
		if empty {
			writePlainErr(w, 400, "Body cannot be empty when content-type is set to 'application/json'")
			return false, false
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || json.Unmarshal(data, dst) != nil {
			writePlainErr(w, 400, "Body is not valid JSON but content-type is set to 'application/json'")
			return false, false
		}
		return true, true
	case strings.HasPrefix(ct, "text/plain"):
		drain(r)
		return false, true // a string body: the schema rejects it
	default:
		drain(r)
		writePlainErr(w, 415, "Unsupported Media Type: "+r.Header.Get("Content-Type"))
		return false, false
	}
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request, _ params) {
	if s.cfg.HealthcheckDisabled {
		if s.ver.atLeast(4, 5, 0) {
			s.writeErr(w, zerr(9002, ""))
		} else {
			writeRouteNotFound(w, r)
		}
		return
	}
	writeJSON(w, 200, orderedMap{{"pass", true}})
}

func (s *Server) handlePublic(w http.ResponseWriter, r *http.Request, _ params) {
	c := s.cfg
	size := func(text string, n int64) string {
		if text != "" {
			return text
		}
		return formatSize(n)
	}
	files := orderedMap{{"maxFileSize", size(c.MaxFileSizeText, c.MaxFileSize)}, {"defaultFormat", c.DefaultFormat}}
	if s.ver.atLeast(4, 4, 1) {
		var maxExp any
		if c.MaxExpiration != "" {
			maxExp = c.MaxExpiration
		}
		files = append(files, kv{"maxExpiration", maxExp})
	}
	domains := c.Domains
	if domains == nil {
		domains = []string{}
	}
	body := orderedMap{
		{"oauth", orderedMap{{"bypassLocalLogin", false}, {"loginOnly", false}}},
		{"oauthEnabled", orderedMap{{"discord", false}, {"github", false}, {"google", false}, {"oidc", false}}},
		{"website", orderedMap{{"loginBackground", nil}, {"loginBackgroundBlur", true}, {"title", "Zipline"}, {"tos", true}}},
		{"features", orderedMap{{"oauthRegistration", false}, {"userRegistration", false}}},
		{"mfa", orderedMap{{"passkeys", false}}},
		{"files", files},
		{"chunks", orderedMap{{"max", size(c.ChunkMaxText, c.ChunkMax)}, {"size", size(c.ChunkSizeText, c.ChunkSize)}, {"enabled", !c.ChunksDisabled}}},
		{"firstSetup", s.firstSetup()},
		{"domains", domains},
	}
	if s.ver.atLeast(4, 4, 2) {
		body = append(body, kv{"returnHttps", c.ReturnHTTPS})
	}
	writeJSON(w, 200, body)
}

func (s *Server) firstSetup() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users) == 0
}

func (s *Server) handleSetupGet(w http.ResponseWriter, r *http.Request, _ params) {
	if !s.firstSetup() {
		s.writeErr(w, zerr(9001, "Forbidden"))
		return
	}
	writeJSON(w, 200, orderedMap{{"firstSetup", true}})
}

func (s *Server) handleSetupPost(w http.ResponseWriter, r *http.Request, _ params) {
	var body struct{ Username, Password string }
	present, ok := s.readJSON(w, r, &body)
	if !ok {
		return
	}
	if !s.firstSetup() {
		s.writeErr(w, zerr(9001, "Forbidden"))
		return
	}
	if !present || strings.TrimSpace(body.Username) == "" || strings.TrimSpace(body.Password) == "" {
		s.schemaErr(w, "username", "Required")
		return
	}
	// Setup is limited to 1 request per 5 s.
	w.Header().Set("X-Ratelimit-Limit", "1")
	w.Header().Set("X-Ratelimit-Remaining", "0")
	w.Header().Set("X-Ratelimit-Reset", "5")
	u := s.AddUser(strings.TrimSpace(body.Username), strings.TrimSpace(body.Password), RoleSuperAdmin)
	s.mu.Lock()
	uj := s.userJSON(s.users[u.ID], false)
	s.mu.Unlock()
	writeJSON(w, 200, orderedMap{{"firstSetup", true}, {"user", uj}})
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	admin := u.role != RoleUser
	switch {
	case s.cfg.VersionAPI == VersionAPIDisabled:
		s.writeErr(w, zerr(9002, "Not found").old("Not Found"))
	case !s.ver.atLeast(4, 1, 0):
		if !admin {
			s.writeErr(w, zerr(3000, "").old("Forbidden"))
			return
		}
		writeJSON(w, 200, orderedMap{{"version", s.ver.String()}})
	case s.cfg.VersionAPI == VersionAPIWorks:
		tag := "v" + s.ver.String()
		writeJSON(w, 200, orderedMap{
			{"details", orderedMap{{"version", s.ver.String()}, {"sha", nil}}},
			{"data", orderedMap{{"isUpstream", false}, {"isRelease", true}, {"isLatest", true},
				{"version", orderedMap{{"tag", tag}, {"sha", nil}, {"url", "https://github.com/diced/zipline/releases/tag/" + tag}}},
				{"latest", orderedMap{{"tag", tag}, {"url", "https://github.com/diced/zipline/releases/tag/" + tag}}}}},
			{"cached", false},
		})
	case !s.ver.atLeast(4, 5, 0):
		writePlainErr(w, 404, "Not Found")
	default:
		s.writeErr(w, zerr(6001, ""))
	}
}

// cookieExpires is the Expires the server computes once at start.
func (s *Server) cookieLifetime() time.Duration {
	if s.ver.atLeast(4, 2, 0) {
		return 14 * 24 * time.Hour
	}
	return 7 * 24 * time.Hour
}
