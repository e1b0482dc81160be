package ziplinetest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// authenticate is userMiddleware (§2). anonFolder allows the anonymous
// folder-upload exception; then u is nil and ok true.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, anonFolder bool) (u *userRec, se *session, ok bool) {
	authz := r.Header.Get("Authorization")
	cookie := sessionCookie(r)
	if anonFolder && authz == "" && cookie == "" && r.Header.Get("X-Zipline-Folder") != "" && s.ver.atLeast(4, 0, 1) {
		return nil, nil, true
	}
	s.mu.Lock()
	if authz != "" {
		u, why := s.userByToken(authz)
		s.mu.Unlock()
		if u == nil {
			drain(r)
			s.writeErr(w, zerr(2001, "").old(string(why)))
			return nil, nil, false
		}
		return u, nil, true
	}
	se = s.sessions[cookie]
	if cookie == "" || se == nil {
		s.mu.Unlock()
		drain(r)
		s.writeErr(w, zerr(2000, "").old("not logged in"))
		return nil, nil, false
	}
	if se.ended || s.users[se.user.id] == nil {
		s.mu.Unlock()
		drain(r)
		s.writeErr(w, zerr(2001, "").old("invalid login session"))
		return nil, nil, false
	}
	s.mu.Unlock()
	return se.user, se, true
}

func sessionCookie(r *http.Request) string {
	c, err := r.Cookie("zipline_session")
	if err != nil {
		return ""
	}
	return c.Value
}

// setCookie writes the iron-session cookie with the attributes of the
// configured release, in iron-session's order.
func (s *Server) setCookie(w http.ResponseWriter, value string, clear bool) {
	life := s.cookieLifetime()
	maxAge := strconv.Itoa(int(life / time.Second))
	if clear {
		maxAge = "0"
	}
	c := "zipline_session=" + value + "; Max-Age=" + maxAge + "; Path=/; Expires=" +
		s.start.Add(life).UTC().Format(http.TimeFormat)
	if s.ver.atLeast(4, 4, 1) {
		c += "; HttpOnly"
	}
	if s.cfg.ReturnHTTPS {
		c += "; Secure"
	}
	w.Header().Add("Set-Cookie", c+"; SameSite=Lax")
}

// sealedValue looks like an iron-session seal (Fe26.2*…); it is opaque and
// only maps to a session in this fake.
func sealedValue(life time.Duration) string {
	b := func(n int) string { return randString(n, alnum+"-_") }
	hexs := func(n int) string { return randString(n, "0123456789abcdef") }
	exp := strconv.FormatInt(time.Now().Add(life).UnixMilli(), 10)
	return "Fe26.2*1*" + hexs(64) + "*" + b(22) + "*" + b(171) + "*" + exp + "*" + hexs(64) + "*" + b(43) + "~2"
}

type loginBody struct {
	Username *string `json:"username"`
	Password *string `json:"password"`
	Code     *string `json:"code"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, _ params) {
	if res, on := s.loginRL.take(remoteIP(r) + "-" + r.URL.RequestURI() + "-" + r.Method); on {
		if res.limited {
			drain(r)
			res.write429(w)
			return
		}
		res.setHeaders(w)
	}
	var body loginBody
	present, ok := s.readJSON(w, r, &body)
	if !ok {
		return
	}
	if !present || body.Username == nil || strings.TrimSpace(*body.Username) == "" {
		s.schemaErr(w, "username", "Required")
		return
	}
	if body.Password == nil || strings.TrimSpace(*body.Password) == "" {
		s.schemaErr(w, "password", "Required")
		return
	}
	if body.Code != nil && *body.Code == "" {
		s.schemaErr(w, "code", "String must contain at least 1 character(s)")
		return
	}
	client, device := guessClient(r.UserAgent())
	if s.ver.atLeast(4, 5, 0) {
		if h := r.Header.Get("X-Zipline-Client"); h != "" {
			var c struct{ Client, Device, UA *string }
			if json.Unmarshal([]byte(h), &c) != nil || c.Client == nil || c.Device == nil || c.UA == nil {
				s.schemaErr(w, "x-zipline-client", "Invalid input")
				return
			}
			client, device = *c.Client, *c.Device
		}
	}
	name, pass := strings.TrimSpace(*body.Username), strings.TrimSpace(*body.Password)

	s.mu.Lock()
	u := s.byName[name]
	var e *apiErr
	switch {
	case u == nil:
		e = zerr(1044, "").old(s.oldLoginMsg("Invalid username"))
	case u.password == "":
		e = zerr(1044, "").old(s.oldLoginMsg("User does not have a password, login through a provider"))
	case u.password != pass:
		e = zerr(1044, "").old(s.oldLoginMsg("Invalid password"))
	}
	if e != nil {
		s.mu.Unlock()
		s.writeErr(w, e)
		return
	}
	if u.totpSecret != "" {
		if body.Code == nil {
			s.mu.Unlock()
			writeJSON(w, 200, orderedMap{{"totp", true}})
			return
		}
		if !checkTOTP(u.totpSecret, *body.Code) {
			s.mu.Unlock()
			s.writeErr(w, zerr(1045, ""))
			return
		}
	}
	uj := s.userJSON(u, true) // the user as read before the session exists
	se := &session{id: randString(32, alnum), cookie: sealedValue(s.cookieLifetime()), user: u,
		createdAt: time.Now(), ua: r.UserAgent(), client: client, device: device}
	s.sessions[se.cookie] = se
	u.updatedAt = time.Now()
	s.mu.Unlock()
	s.setCookie(w, se.cookie, false)
	writeJSON(w, 200, orderedMap{{"user", uj}})
}

// oldLoginMsg: 4.0.x told the causes apart; 4.2–4.4 did not.
func (s *Server) oldLoginMsg(specific string) string {
	if s.ver.atLeast(4, 1, 0) {
		return "Invalid username or password"
	}
	return specific
}

// guessClient labels a session from its User-Agent ("curl/7.88.1" →
// "curl 7.88.1", "Web").
func guessClient(ua string) (client, device string) {
	first := strings.Fields(ua)
	if len(first) == 0 {
		return "Unknown", "Web"
	}
	return strings.Replace(first[0], "/", " ", 1), "Web"
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, _ params) {
	_, se, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	if se == nil {
		// Token-only auth: no current session id, the delete query fails.
		writePlainErr(w, 500, "Internal Server Error")
		return
	}
	s.mu.Lock()
	se.ended = true
	se.user.updatedAt = time.Now()
	s.mu.Unlock()
	s.setCookie(w, "", true)
	writeJSON(w, 200, orderedMap{{"loggedOut", true}})
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	s.mu.Lock()
	uj := s.userJSON(u, false)
	s.mu.Unlock()
	writeJSON(w, 200, orderedMap{{"user", uj}})
}

func (s *Server) handleTokenGet(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	s.mu.Lock()
	tok := s.encryptToken(u.secret)
	s.mu.Unlock()
	writeJSON(w, 200, orderedMap{{"token", tok}})
}

func (s *Server) handleTokenPatch(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	if res, on := s.patchRL.take(u.id + "-" + r.URL.Path + "-PATCH"); on {
		if res.limited {
			drain(r)
			res.write429(w)
			return
		}
		res.setHeaders(w)
	}
	if !s.bodyOK(w, r) {
		return
	}
	drain(r)
	s.mu.Lock()
	u.secret = newSecret()
	u.updatedAt = time.Now()
	uj := s.userJSON(u, true)
	tok := s.encryptToken(u.secret)
	s.mu.Unlock()
	writeJSON(w, 200, orderedMap{{"user", uj}, {"token", tok}})
}

// userJSON is the user object in the key order of the release. Called with
// s.mu held.
func (s *Server) userJSON(u *userRec, withToken bool) orderedMap {
	var sessions any
	if s.ver.atLeast(4, 5, 0) {
		list := []orderedMap{}
		for _, se := range s.userSessions(u) {
			list = append(list, orderedMap{{"id", se.id}, {"createdAt", isoTime(se.createdAt)},
				{"ua", se.ua}, {"client", se.client}, {"device", se.device}, {"userId", u.id}})
		}
		sessions = list
	} else {
		ids := []string{}
		for _, se := range s.userSessions(u) {
			ids = append(ids, se.id)
		}
		sessions = ids
	}
	var totp, quota any
	if u.totpSecret != "" {
		totp = u.totpSecret
	}
	if q := u.quota; q != nil {
		filesQuota := "BY_BYTES"
		var maxBytes, maxFiles, maxURLs any
		if q.MaxBytes > 0 {
			maxBytes = formatSize(q.MaxBytes)
		}
		if q.MaxFiles > 0 {
			filesQuota, maxFiles = "BY_FILES", q.MaxFiles
		}
		if q.MaxURLs > 0 {
			maxURLs = q.MaxURLs
		}
		quota = orderedMap{{"id", "q" + u.id[1:]}, {"createdAt", isoTime(u.createdAt)}, {"updatedAt", isoTime(u.updatedAt)},
			{"filesQuota", filesQuota}, {"maxBytes", maxBytes}, {"maxFiles", maxFiles}, {"maxUrls", maxURLs}, {"userId", u.id}}
	}
	m := orderedMap{{"id", u.id}, {"username", u.username}, {"createdAt", isoTime(u.createdAt)},
		{"updatedAt", isoTime(u.updatedAt)}, {"role", string(u.role)}, {"view", orderedMap{}}}
	if s.ver.atLeast(4, 5, 0) {
		m = append(m, kv{"sessions", sessions}, kv{"oauthProviders", []any{}}, kv{"totpSecret", totp},
			kv{"passkeys", []any{}}, kv{"quota", quota})
	} else {
		m = append(m, kv{"oauthProviders", []any{}}, kv{"totpSecret", totp}, kv{"passkeys", []any{}},
			kv{"quota", quota}, kv{"sessions", sessions})
	}
	if withToken {
		m = append(m, kv{"token", u.secret})
	}
	return m
}

func (s *Server) userSessions(u *userRec) []*session {
	var out []*session
	for _, se := range s.sessions {
		if se.user == u && !se.ended {
			out = append(out, se)
		}
	}
	// Oldest first, stable across calls.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].createdAt.Before(out[j-1].createdAt); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
