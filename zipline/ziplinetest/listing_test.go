package ziplinetest

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestListingsAndDelete(t *testing.T) {
	s := newSrv(t, Config{UploadRateLimit: RateLimit{Off: true}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	other := s.AddUser("bob", "pw", RoleUser).Token()
	var names []string
	for i := 0; i < 5; i++ {
		r := upload(t, s, tok, nil, png("a.png"))
		names = append(names, r.json(t)["files"].([]any)[0].(map[string]any)["name"].(string))
	}
	upload(t, s, other, nil, png("b.png"))

	recent := jsonList(t, do(t, "GET", s.URL+"/api/user/recent?take=2", nil, "Authorization", tok).body)
	if len(recent) != 2 || recent[0].(map[string]any)["name"] != names[4] || recent[0].(map[string]any)["url"] != "/u/"+names[4] {
		t.Fatalf("recent %v", recent)
	}
	if n := len(jsonList(t, do(t, "GET", s.URL+"/api/user/recent", nil, "Authorization", tok).body)); n != 3 {
		t.Fatalf("default take gave %d", n)
	}
	expect(t, do(t, "GET", s.URL+"/api/user/recent?take=101", nil, "Authorization", tok), 400, "")

	r := do(t, "GET", s.URL+"/api/user/files", nil, "Authorization", tok)
	if r.status != 400 || r.json(t)["code"] != 1000.0 {
		t.Fatalf("page missing: %d %s", r.status, r.body)
	}
	m := do(t, "GET", s.URL+"/api/user/files?page=2&perpage=2", nil, "Authorization", tok).json(t)
	page := m["page"].([]any)
	if m["total"] != 5.0 || m["pages"] != 3.0 || len(page) != 2 || page[0].(map[string]any)["name"] != names[2] {
		t.Fatalf("page 2: %v", m)
	}
	f := page[0].(map[string]any)
	for _, k := range []string{"id", "name", "originalName", "type", "size", "views", "maxViews", "favorite", "createdAt", "updatedAt", "deletesAt", "folderId", "anonymous", "thumbnail", "tags", "url"} {
		if _, ok := f[k]; !ok {
			t.Fatalf("file object lacks %q: %v", k, f)
		}
	}

	id := s.Files()[0].ID
	one := do(t, "GET", s.URL+"/api/user/files/"+id, nil, "Authorization", tok)
	// Key order of the 4.6.3 transcript (§31).
	if one.status != 200 || !regexpMatch(`^\{"createdAt":"[^"]+","updatedAt":"[^"]+","deletesAt":null,"favorite":false,"id":"`+id+`","originalName":null,"name":"`+names[0]+`","size":\d+,"type":"image/png","views":\d+,"maxViews":null,"folderId":null,"anonymous":false,"thumbnail":null,"tags":\[\]\}$`, one.body) {
		t.Fatalf("one file: %s", one.body)
	}
	expect(t, do(t, "GET", s.URL+"/api/user/files/"+names[1], nil, "Authorization", tok), 200, "")
	expect(t, do(t, "GET", s.URL+"/api/user/files/"+id, nil, "Authorization", other), 404,
		`{"error":"E4000: File not found","code":4000,"statusCode":404}`)
	raw := do(t, "GET", s.URL+"/api/user/files/"+id+"/raw", nil, "Authorization", tok)
	if raw.status != 200 || raw.header.Get("Content-Type") != "image/png" {
		t.Fatalf("owner raw: %d %v", raw.status, raw.header)
	}
	expect(t, do(t, "DELETE", s.URL+"/api/user/files/"+id, nil, "Authorization", other), 404, "")
	expect(t, do(t, "DELETE", s.URL+"/api/user/files/"+id, nil, "Authorization", tok), 200, "")
	expect(t, do(t, "DELETE", s.URL+"/api/user/files/"+id, nil, "Authorization", tok), 404, "")
	expect(t, do(t, "GET", s.URL+"/raw/"+names[0], nil), 404, "")
	if len(s.Files()) != 5 {
		t.Fatalf("%d files left", len(s.Files()))
	}
	st := do(t, "GET", s.URL+"/api/user/stats", nil, "Authorization", tok).json(t)
	if st["filesUploaded"] != 4.0 || st["sortTypeCount"].(map[string]any)["image/png"] != 4.0 {
		t.Fatalf("stats %v", st)
	}
}

func TestFolders(t *testing.T) {
	for _, v := range []string{"4.6", "4.7.0"} {
		t.Run(v, func(t *testing.T) {
			s := newSrv(t, Config{Version: v, UploadRateLimit: RateLimit{Off: true}})
			tok := s.AddUser("alice", "pw", RoleUser).Token()
			bob := s.AddUser("bob", "pw", RoleUser).Token()
			open, _ := s.AddFolder("alice", "Drop box", FolderOptions{AllowUploads: true})
			closed, _ := s.AddFolder("alice", "Screenshots", FolderOptions{})
			list := jsonList(t, do(t, "GET", s.URL+"/api/user/folders?noincl=true", nil, "Authorization", tok).body)
			if len(list) != 2 || list[0].(map[string]any)["name"] != "Screenshots" || list[0].(map[string]any)["_count"] == nil {
				t.Fatalf("folders %v", list)
			}
			expect(t, do(t, "GET", s.URL+"/api/user/folders?noincl=true", nil, "Authorization", bob), 200, "[]")

			expect(t, upload(t, s, tok, []string{"x-zipline-folder", closed.ID}, png("a.png")), 200, "")
			if f := s.Files(); f[0].FolderID != closed.ID {
				t.Fatalf("folder not recorded: %+v", f[0])
			}
			// Anonymous uploads need an open folder.
			expect(t, upload(t, s, "", []string{"x-zipline-folder", open.ID}, png("a.png")), 200, "")
			expect(t, upload(t, s, "", []string{"x-zipline-folder", closed.ID}, png("a.png")), 403,
				`{"error":"E3002: Folder is not open","code":3002,"statusCode":403}`)
			if f := s.Files(); f[1].Owner != "" {
				t.Fatalf("anonymous owner %q", f[1].Owner)
			}
			// Someone else's closed folder: allowed on 4.6, E3011 from 4.7.
			r := upload(t, s, bob, []string{"x-zipline-folder", closed.ID}, png("a.png"))
			if v == "4.6" {
				expect(t, r, 200, "")
			} else {
				expect(t, r, 403, `{"error":"E3011: You do not own this folder","code":3011,"statusCode":403}`)
			}
			m := do(t, "GET", s.URL+"/api/user/files?page=1&folder="+closed.ID, nil, "Authorization", tok).json(t)
			if m["total"] != 1.0 {
				t.Fatalf("folder filter %v", m)
			}
		})
	}
}

func TestShortURLs(t *testing.T) {
	s := newSrv(t, Config{})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	post := func(body string, hdr ...string) resp {
		return do(t, "POST", s.URL+"/api/user/urls", strings.NewReader(body), append([]string{"Authorization", tok, "Content-Type", "application/json"}, hdr...)...)
	}
	r := post(`{"destination":"https://example.com/a?b=c"}`)
	m := r.json(t)
	if r.status != 200 || !strings.HasPrefix(m["url"].(string), s.URL+"/go/") || m["destination"] != "https://example.com/a?b=c" || !strings.HasPrefix(r.body, `{"id":"`) {
		t.Fatalf("shorten: %s", r.body)
	}
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(m["url"].(string))
	if err != nil || res.StatusCode != 302 || res.Header.Get("Location") != "https://example.com/a?b=c" {
		t.Fatalf("redirect: %v %v", err, res)
	}
	res.Body.Close()
	expect(t, post(`{"destination":"https://x.example","vanity":"mine"}`, "x-zipline-no-json", "true"), 200, s.URL+"/go/mine")
	expect(t, post(`{"destination":"https://y.example","vanity":"mine"}`), 400, `{"error":"E1042: Vanity already taken","code":1042,"statusCode":400}`)
	for _, bad := range []string{`{"destination":"ftp://x"}`, `{"destination":"not a url"}`, `{}`, `{"destination":"https://x","vanity":"api"}`} {
		if r := post(bad); r.status != 400 || r.json(t)["code"] != 1000.0 {
			t.Fatalf("%s: %d %s", bad, r.status, r.body)
		}
	}
	if r := post(`{"destination":"https://x"}`, "x-zipline-no-json", "yes"); r.status != 400 {
		t.Fatalf("no-json yes: %d", r.status)
	}
	r = post(`{"destination":"https://x"}`, "x-zipline-domain", "s.example", "x-zipline-max-views", "2")
	if m := r.json(t); !strings.HasPrefix(m["url"].(string), "http://s.example/go/") || m["maxViews"] != 2.0 {
		t.Fatalf("domain/max views: %s", r.body)
	}
	if n := len(jsonList(t, do(t, "GET", s.URL+"/api/user/urls", nil, "Authorization", tok).body)); n != 3 || len(s.URLs()) != 3 {
		t.Fatalf("%d urls listed", n)
	}
}

func TestReturnHTTPSAndDefaultDomain(t *testing.T) {
	s := newSrv(t, Config{ReturnHTTPS: true, DefaultDomain: "z.example", LoginRateLimit: RateLimit{Off: true}})
	s.AddUser("alice", "pw", RoleAdmin)
	r := login(t, s, "alice", "pw", "")
	if c := r.header.Get("Set-Cookie"); !strings.HasSuffix(c, "; HttpOnly; Secure; SameSite=Lax") {
		t.Fatalf("cookie %q", c)
	}
	tok := s.User("alice").Token()
	u := upload(t, s, tok, nil, png("a.png")).json(t)["files"].([]any)[0].(map[string]any)["url"].(string)
	if !strings.HasPrefix(u, "https://z.example/u/") {
		t.Fatalf("url %s", u)
	}
	if !strings.Contains(do(t, "GET", s.URL+"/api/server/public", nil).body, `"returnHttps":true`) {
		t.Fatal("public returnHttps")
	}
}

func TestWaitHelpers(t *testing.T) {
	s := New(t, Config{ProcessingDelay: 30 * time.Millisecond, UploadRateLimit: RateLimit{Off: true}})
	tok := s.AddUser("alice", "pw", RoleUser).Token()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ct, body := mpBody(png("a.png"), png("b.png"))
	sent := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.URL+"/api/upload", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", tok)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		sent <- err
	}()
	files, err := s.WaitFiles(ctx, 2)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if err != nil || len(files) != 2 {
		t.Fatalf("WaitFiles: %v %d", err, len(files))
	}
	rs := chunked(t, s, tok, randomBytes(500), []int{200, 300}, false)
	id := rs[1].json(t)["files"].([]any)[0].(map[string]any)["id"].(string)
	f, err := s.WaitComplete(ctx, id)
	if err != nil || !f.Complete || f.Size != 500 {
		t.Fatalf("WaitComplete: %v %+v", err, f)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := s.WaitFiles(short, 10); err == nil {
		t.Fatal("WaitFiles did not time out")
	}
	// No x-ratelimit headers on a 401: the limiter runs after auth.
	s.SetUploadRateLimit(RateLimit{})
	if r := upload(t, s, "", nil, png("a.png")); r.status != 401 || r.header.Get("X-Ratelimit-Limit") != "" || r.header.Get("Keep-Alive") != "timeout=72" {
		t.Fatalf("401: %d %v", r.status, r.header)
	}
}

func TestFrontendPaths(t *testing.T) {
	s := New(t, Config{})
	if r := do(t, "GET", s.URL+"/", nil); r.status != 200 || !strings.Contains(r.body, "<title>Zipline</title>") {
		t.Fatalf("/: %d %s", r.status, r.body)
	}
	if m := do(t, "GET", s.URL+"/manifest.json", nil).json(t); m["name"] != "Zipline" {
		t.Fatalf("manifest %v", m)
	}
	expect(t, do(t, "POST", s.URL+"/", nil), 404, `{"message":"Route POST:/ not found","error":"Not Found","statusCode":404}`)
}
