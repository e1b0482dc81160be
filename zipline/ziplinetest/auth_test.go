package ziplinetest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func loginBodyJSON(user, pass, code string) *strings.Reader {
	b := `{"username":"` + user + `","password":"` + pass + `"`
	if code != "" {
		b += `,"code":"` + code + `"`
	}
	return strings.NewReader(b + "}")
}

func login(t *testing.T, s *Server, user, pass, code string) resp {
	t.Helper()
	return do(t, "POST", s.URL+"/api/auth/login", loginBodyJSON(user, pass, code), "Content-Type", "application/json")
}

func sessionOf(t *testing.T, r resp) string {
	t.Helper()
	c := r.header.Get("Set-Cookie")
	m := regexp.MustCompile(`^zipline_session=([^;]*);`).FindStringSubmatch(c)
	if m == nil {
		t.Fatalf("no zipline_session in Set-Cookie %q", c)
	}
	return "zipline_session=" + m[1]
}

func TestHealthPublicSetup(t *testing.T) {
	s := newSrv(t, Config{})
	expect(t, do(t, "GET", s.URL+"/api/healthcheck", nil), 200, `{"pass":true}`)
	r := do(t, "GET", s.URL+"/api/healthcheck", nil)
	if r.header.Get("Content-Type") != "application/json; charset=utf-8" || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("headers %v", r.header)
	}
	// Byte-for-byte the 4.6.3 transcript (§2 before setup, §6 after).
	const pub = `{"oauth":{"bypassLocalLogin":false,"loginOnly":false},"oauthEnabled":{"discord":false,"github":false,"google":false,"oidc":false},"website":{"loginBackground":null,"loginBackgroundBlur":true,"title":"Zipline","tos":true},"features":{"oauthRegistration":false,"userRegistration":false},"mfa":{"passkeys":false},"files":{"maxFileSize":"100mb","defaultFormat":"random","maxExpiration":null},"chunks":{"max":"95mb","size":"25mb","enabled":true},"firstSetup":%s,"domains":[],"returnHttps":false}`
	expect(t, do(t, "GET", s.URL+"/api/server/public", nil), 200, strings.Replace(pub, "%s", "true", 1))
	expect(t, do(t, "GET", s.URL+"/api/setup", nil), 200, `{"firstSetup":true}`)
	r = do(t, "POST", s.URL+"/api/setup", strings.NewReader(`{"username":"administrator","password":"pw-for-tests"}`), "Content-Type", "application/json")
	if r.status != 200 || r.json(t)["user"].(map[string]any)["role"] != "SUPERADMIN" || r.header.Get("X-Ratelimit-Limit") != "1" {
		t.Fatalf("setup: %d %s", r.status, r.body)
	}
	expect(t, do(t, "GET", s.URL+"/api/setup", nil), 403, `{"error":"E9001: Forbidden","code":9001,"statusCode":403}`)
	expect(t, do(t, "GET", s.URL+"/api/server/public", nil), 200, strings.Replace(pub, "%s", "false", 1))
	expect(t, login(t, s, "administrator", "pw-for-tests", ""), 200, "")

	old := newSrv(t, Config{Version: "4.4"})
	old.AddUser("a", "b", RoleSuperAdmin)
	expect(t, do(t, "GET", old.URL+"/api/setup", nil), 403, `{"error":"Forbidden","statusCode":403}`)
	if b := do(t, "GET", old.URL+"/api/server/public", nil).body; strings.Contains(b, "returnHttps") || strings.Contains(b, "maxExpiration") {
		t.Fatalf("4.4.0 public has ≥4.4.1 keys: %s", b)
	}
	expect(t, do(t, "GET", newSrv(t, Config{Version: "4.2"}).URL+"/api/server/public", nil), 404,
		`{"message":"Route GET:/api/server/public not found","error":"Not Found","statusCode":404}`)

	big := newSrv(t, Config{MaxFileSize: 1 << 30, ChunkSize: 10 << 20, ChunkMax: 3000, MaxFileSizeText: "1GiB", Domains: []string{"a.example"}})
	m := do(t, "GET", big.URL+"/api/server/public", nil).json(t)
	if m["files"].(map[string]any)["maxFileSize"] != "1GiB" || m["chunks"].(map[string]any)["size"] != "10mb" || m["chunks"].(map[string]any)["max"] != "3000" {
		t.Fatalf("sizes: %v", m)
	}
}

// Error bodies for the same mistakes, per era (transcripts §5–§18 / §7–§18).
func TestAuthErrorsByEra(t *testing.T) {
	for _, tc := range []struct {
		version                                        string
		noCreds, garbage, bearer, rawSecret, loggedOut string
	}{
		{"4.4",
			`{"error":"not logged in","statusCode":401}`,
			`{"error":"could not decrypt token","statusCode":401}`,
			`{"error":"invalid token","statusCode":401}`,
			`{"error":"could not decrypt token","statusCode":401}`,
			`{"error":"invalid login session","statusCode":401}`},
		{"4.6",
			`{"error":"E2000: Invalid login session","code":2000,"statusCode":401}`,
			`{"error":"E2001: Invalid token","code":2001,"statusCode":401}`,
			`{"error":"E2001: Invalid token","code":2001,"statusCode":401}`,
			`{"error":"E2001: Invalid token","code":2001,"statusCode":401}`,
			`{"error":"E2001: Invalid token","code":2001,"statusCode":401}`},
	} {
		t.Run(tc.version, func(t *testing.T) {
			s := newSrv(t, Config{Version: tc.version})
			u := s.AddUser("administrator", "pw", RoleSuperAdmin)
			tok := u.Token()
			for _, path := range []string{"/api/user", "/api/user/token"} {
				expect(t, do(t, "GET", s.URL+path, nil), 401, tc.noCreds)
			}
			expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", "not-a-real-token"), 401, tc.garbage)
			expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", "Bearer "+tok), 401, tc.bearer)
			lr := login(t, s, "administrator", "pw", "")
			raw := lr.json(t)["user"].(map[string]any)["token"].(string)
			if raw != u.RawSecret() {
				t.Fatalf("login user.token %q is not the raw secret", raw)
			}
			expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", raw), 401, tc.rawSecret)
			cookie := sessionOf(t, lr)
			expect(t, do(t, "GET", s.URL+"/api/auth/logout", nil, "Cookie", cookie), 200, `{"loggedOut":true}`)
			expect(t, do(t, "GET", s.URL+"/api/user", nil, "Cookie", cookie), 401, tc.loggedOut)
			expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", tok), 200, "")
		})
	}
}

func TestLoginCookieTokenLogout(t *testing.T) {
	for _, tc := range []struct {
		version, cookieAttrs, wrongPw string
		sessionObjects                bool
	}{
		{"4.4", "; Max-Age=1209600; Path=/; Expires=%s; SameSite=Lax", `{"error":"Invalid username or password","statusCode":400}`, false},
		{"4.6", "; Max-Age=1209600; Path=/; Expires=%s; HttpOnly; SameSite=Lax", `{"error":"E1044: Invalid username or password","code":1044,"statusCode":400}`, true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			s := newSrv(t, Config{Version: tc.version})
			s.AddUser("administrator", "password-for-local-tests", RoleSuperAdmin)
			s.AddUser("oauth-only", "", RoleUser)

			r := login(t, s, "administrator", "wrong-password", "")
			expect(t, r, 400, tc.wrongPw)
			if r.header.Get("X-Ratelimit-Limit") != "1" || r.header.Get("X-Ratelimit-Remaining") != "0" || r.header.Get("X-Ratelimit-Reset") != "2" {
				t.Fatalf("login rate-limit headers: %v", r.header)
			}
			// A second login within 2 s is refused.
			// (1 second only if the machine stalled for over a second.)
			r = login(t, s, "administrator", "password-for-local-tests", "")
			if r.status != 429 || !regexpMatch(`^\{"error":"Rate limit exceeded, retry in (2 seconds|1 second)","statusCode":429\}$`, r.body) ||
				!strings.Contains(r.body, r.header.Get("Retry-After")+" second") {
				t.Fatalf("second login: %d %s %v", r.status, r.body, r.header)
			}
			s.SetLoginRateLimit(RateLimit{Off: true})
			expect(t, login(t, s, "oauth-only", "x", ""), 400, tc.wrongPw)
			expect(t, login(t, s, "nobody", "x", ""), 400, tc.wrongPw)
			r = login(t, s, "administrator", "password-for-local-tests", "")
			expect(t, r, 200, "")
			want := "zipline_session=[^;]+" + regexp.QuoteMeta(strings.Replace(tc.cookieAttrs, "%s", s.start.Add(14*24*time.Hour).UTC().Format(http.TimeFormat), 1))
			if c := r.header.Get("Set-Cookie"); !regexp.MustCompile("^"+want+"$").MatchString(c) || !strings.HasPrefix(c, "zipline_session=Fe26.2*") {
				t.Fatalf("cookie %q\nwant %s", c, want)
			}
			if u := r.json(t)["user"].(map[string]any); u["username"] != "administrator" || u["token"] == nil || len(u["sessions"].([]any)) != 0 {
				t.Fatalf("login user %v", u)
			}
			cookie := sessionOf(t, r)

			t1 := do(t, "GET", s.URL+"/api/user/token", nil, "Cookie", cookie).json(t)["token"].(string)
			t2 := do(t, "GET", s.URL+"/api/user/token", nil, "Cookie", cookie).json(t)["token"].(string)
			if t1 == t2 || len(t1) < 250 || len(t1) > 320 || !regexp.MustCompile(`^[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$`).MatchString(t1) {
				t.Fatalf("tokens %q %q", t1, t2)
			}
			for _, tok := range []string{t1, t2} {
				u := do(t, "GET", s.URL+"/api/user", nil, "Authorization", tok).json(t)["user"].(map[string]any)
				sessions := u["sessions"].([]any)
				if len(sessions) != 1 {
					t.Fatalf("sessions %v", sessions)
				}
				if _, isObj := sessions[0].(map[string]any); isObj != tc.sessionObjects {
					t.Fatalf("session entry %v", sessions[0])
				}
			}
			// The Authorization header wins over the cookie, even when bad.
			expect(t, do(t, "GET", s.URL+"/api/user", nil, "Cookie", cookie, "Authorization", "x.y"), 401, "")

			expect(t, do(t, "POST", s.URL+"/api/auth/logout", nil, "Cookie", cookie), 404,
				`{"message":"Route POST:/api/auth/logout not found","error":"Not Found","statusCode":404}`)
			r = do(t, "GET", s.URL+"/api/auth/logout", nil, "Authorization", t1)
			expect(t, r, 500, "")
			r = do(t, "GET", s.URL+"/api/auth/logout", nil, "Cookie", cookie)
			expect(t, r, 200, `{"loggedOut":true}`)
			if c := r.header.Get("Set-Cookie"); !strings.HasPrefix(c, "zipline_session=; Max-Age=0; Path=/; Expires=") {
				t.Fatalf("logout cookie %q", c)
			}
			if s.Sessions("administrator") != 0 {
				t.Fatal("session survived logout")
			}
			expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", t1), 200, "")
		})
	}
}

func TestClientHeaderAndSchema(t *testing.T) {
	s := newSrv(t, Config{LoginRateLimit: RateLimit{Off: true}})
	s.AddUser("u", "p", RoleUser)
	r := do(t, "POST", s.URL+"/api/auth/login", loginBodyJSON("u", "p", ""), "Content-Type", "application/json",
		"X-Zipline-Client", `{"client":"Tray 1.0","device":"Linux","ua":"tray/1.0"}`)
	expect(t, r, 200, "")
	u := do(t, "GET", s.URL+"/api/user", nil, "Cookie", sessionOf(t, r)).json(t)["user"].(map[string]any)
	if se := u["sessions"].([]any)[0].(map[string]any); se["client"] != "Tray 1.0" || se["device"] != "Linux" {
		t.Fatalf("session %v", se)
	}
	r = do(t, "POST", s.URL+"/api/auth/login", loginBodyJSON("u", "p", ""), "Content-Type", "application/json", "X-Zipline-Client", "not json")
	if r.status != 400 || r.json(t)["code"] != 1000.0 {
		t.Fatalf("bad client header: %d %s", r.status, r.body)
	}
	r = login(t, s, " ", "p", "")
	if r.status != 400 || r.json(t)["code"] != 1000.0 || r.json(t)["issues"] == nil {
		t.Fatalf("empty username: %d %s", r.status, r.body)
	}
	expect(t, do(t, "POST", s.URL+"/api/auth/login", nil, "Content-Type", "application/json"), 400,
		`{"error":"Body cannot be empty when content-type is set to 'application/json'","statusCode":400}`)
	expect(t, do(t, "POST", s.URL+"/api/auth/login", strings.NewReader("<x/>"), "Content-Type", "application/xml"), 415, "")
	expect(t, do(t, "POST", s.URL+"/api/auth/login", strings.NewReader("{"), "Content-Type", "application/json"), 400, "")
}

func TestTOTP(t *testing.T) {
	// RFC 6238 appendix B (SHA-1), truncated to 6 digits.
	const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	for _, v := range []struct {
		unix int64
		code string
	}{{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {20000000000, "353130"}} {
		if got := TOTPCode(rfcSecret, time.Unix(v.unix, 0)); got != v.code {
			t.Fatalf("TOTPCode(%d) = %s, want %s", v.unix, got, v.code)
		}
	}

	s := newSrv(t, Config{LoginRateLimit: RateLimit{Off: true}})
	s.AddUser("alice", "pw", RoleUser)
	totp, err := s.EnableTOTP("alice")
	if err != nil || len(totp.Secret) != 26 {
		t.Fatalf("EnableTOTP: %v %q", err, totp.Secret)
	}
	// The password is checked first.
	expect(t, login(t, s, "alice", "wrong", ""), 400, `{"error":"E1044: Invalid username or password","code":1044,"statusCode":400}`)
	r := login(t, s, "alice", "pw", "")
	expect(t, r, 200, `{"totp":true}`)
	if r.header.Get("Set-Cookie") != "" {
		t.Fatal("a session was created before the code")
	}
	bad := "000000"
	if totp.Code() == bad {
		bad = "111111"
	}
	expect(t, login(t, s, "alice", "pw", bad), 400, `{"error":"E1045: Invalid code","code":1045,"statusCode":400}`)
	r = login(t, s, "alice", "pw", totp.Code())
	expect(t, r, 200, "")
	if u := r.json(t)["user"].(map[string]any); u["totpSecret"] != totp.Secret {
		t.Fatalf("user %v", u)
	}
	sessionOf(t, r)

	old := newSrv(t, Config{Version: "4.4", LoginRateLimit: RateLimit{Off: true}})
	old.AddUser("bob", "pw", RoleUser)
	ot, _ := old.EnableTOTP("bob")
	bad = "000000"
	if ot.Code() == bad {
		bad = "111111"
	}
	expect(t, login(t, old, "bob", "pw", bad), 400, `{"error":"Invalid code","statusCode":400}`)
}

func TestTokenInvalidation(t *testing.T) {
	s := newSrv(t, Config{})
	u := s.AddUser("alice", "pw", RoleUser)
	s.AddUser("bob", "pw", RoleUser)
	a1, a2 := u.Token(), u.Token()
	b1, _ := s.IssueToken("bob")
	r := do(t, "PATCH", s.URL+"/api/user/token", nil, "Authorization", a1)
	expect(t, r, 200, "")
	m := r.json(t)
	fresh := m["token"].(string)
	raw := m["user"].(map[string]any)["token"].(string)
	for _, dead := range []string{a1, a2, raw} {
		expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", dead), 401, `{"error":"E2001: Invalid token","code":2001,"statusCode":401}`)
	}
	expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", fresh), 200, "")
	// PATCH is limited to 1 per second per user.
	expect(t, do(t, "PATCH", s.URL+"/api/user/token", nil, "Authorization", fresh), 429, "")

	if err := s.ResetToken("alice"); err != nil {
		t.Fatal(err)
	}
	expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", fresh), 401, "")
	expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", b1), 200, "")
	s.SetCoreSecret("another core secret of at least 32 chars")
	expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", b1), 401, "")
	b2, _ := s.IssueToken("bob")
	expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", b2), 200, "")

	// A token from another server (another CORE_SECRET) is rejected.
	other := newSrv(t, Config{})
	other.AddUser("bob", "pw", RoleUser)
	expect(t, do(t, "GET", s.URL+"/api/user", nil, "Authorization", other.User("bob").Token()), 401, "")
	// 4.4.0 tokens use AES-CBC and still round-trip there.
	old := newSrv(t, Config{Version: "4.4"})
	ou := old.AddUser("x", "y", RoleUser)
	expect(t, do(t, "GET", old.URL+"/api/user", nil, "Authorization", ou.Token()), 200, "")
}

func TestFastifyQuirks(t *testing.T) {
	s := newSrv(t, Config{})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	expect(t, do(t, "GET", s.URL+"/api/does-not-exist", nil), 404,
		`{"message":"Route GET:/api/does-not-exist not found","error":"Not Found","statusCode":404}`)
	expect(t, do(t, "GET", s.URL+"/api/does-not-exist?x=1", nil), 404,
		`{"message":"Route GET:/api/does-not-exist?x=1 not found","error":"Not Found","statusCode":404}`)
	expect(t, do(t, "DELETE", s.URL+"/api/user/files/abc", nil, "Authorization", tok, "Content-Type", "application/json"), 400,
		`{"error":"Body cannot be empty when content-type is set to 'application/json'","statusCode":400}`)
	expect(t, do(t, "DELETE", s.URL+"/api/user/files/abc", nil, "Authorization", tok), 404,
		`{"error":"E4000: File not found","code":4000,"statusCode":404}`)
	expect(t, do(t, "HEAD", s.URL+"/api/healthcheck", nil), 200, "")
}

func TestVersionAPI(t *testing.T) {
	s := newSrv(t, Config{})
	tok := s.AddUser("a", "b", RoleSuperAdmin).Token()
	expect(t, do(t, "GET", s.URL+"/api/version", nil, "Authorization", tok), 500,
		`{"error":"E6001: Failed to fetch version details","code":6001,"statusCode":500}`)
	old := newSrv(t, Config{Version: "4.4"})
	expect(t, do(t, "GET", old.URL+"/api/version", nil, "Authorization", old.AddUser("a", "b", RoleSuperAdmin).Token()), 404,
		`{"error":"Not Found","statusCode":404}`)
	ok := newSrv(t, Config{Version: "4.8", VersionAPI: VersionAPIWorks})
	m := do(t, "GET", ok.URL+"/api/version", nil, "Authorization", ok.AddUser("a", "b", RoleUser).Token()).json(t)
	if m["details"].(map[string]any)["version"] != "4.8.0" {
		t.Fatalf("version %v", m)
	}
	expect(t, do(t, "GET", ok.URL+"/api/version", nil), 401, "")
}
