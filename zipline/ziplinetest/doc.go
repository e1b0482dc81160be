// Package ziplinetest runs a fake Zipline v4 server on a loopback socket,
// the way net/http/httptest serves net/http. It imitates the real server as
// described in shared/zipline-api.md and the 4.4.0/4.6.3 transcripts:
// status codes, JSON shapes and key order, error bodies per release,
// cookie attributes, rate-limit headers, and the chunked-upload generations
// with their bugs.
//
// Usage in a test:
//
//	srv := ziplinetest.NewServer(ziplinetest.Config{Version: "4.6"})
//	defer srv.Close()
//	alice := srv.AddUser("alice", "secret-pw", ziplinetest.RoleUser)
//	token := alice.Token() // a valid API token; send it bare in Authorization
//
//	// ... point the code under test at srv.URL ...
//
//	files := srv.Files() // what arrived: name, type, size, sha256, options
//	reqs := srv.Requests()
//
// Knobs for failure tests (all safe to call while requests run):
//
//	srv.SetUploadRateLimit(ziplinetest.RateLimit{Max: 2, Window: time.Second})
//	srv.FailNext(2, ziplinetest.Failure{Path: "/api/upload", Status: 502, HTML: true})
//	srv.DropNext(1, "/api/upload", 64<<10) // close the connection mid-body
//	srv.SetProxyLimit(1 << 20)             // nginx-style HTML 413 above 1 MiB
//	srv.SetDelay("/api/upload", 2*time.Second)
//	srv.Down(); /* connection refused */ srv.Up() // same port
//
// Sign-in flows: POST /api/auth/login sets the zipline_session cookie; the
// login reply's user.token is the raw DB secret and is rejected as a token,
// as on the real server (issue #725). EnableTOTP turns on two-factor login
// and returns a TOTP whose Code method gives the current code.
//
// The server never buffers upload bodies in memory: parts are streamed to
// StoreDir (default a temporary directory removed by Close) or, with
// HashOnly, only hashed and counted.
//
// Not imitated: OAuth and passkeys, password-protected file access tokens,
// thumbnails, image compression (the headers are validated, the bytes are
// stored as sent), tags, file editing, folder creation over HTTP.
package ziplinetest
