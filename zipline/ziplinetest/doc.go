// Package ziplinetest runs a fake Zipline v4 server on a real loopback
// socket, the way net/http/httptest serves net/http. It imitates the server
// as described in shared/zipline-api.md and the 4.4.0/4.6.3 transcripts:
// status codes, JSON shapes and key order, error bodies per release (≤4.4
// {"error","statusCode"}, ≥4.5 "E<code>: …" with "code"), cookie
// attributes, rate-limit headers, and the chunked-upload generations with
// their bugs. It does not import package zipline.
//
// # Starting
//
//	srv := ziplinetest.New(t, ziplinetest.Config{Version: "4.6"}) // closed by t.Cleanup
//	srv := ziplinetest.NewServer(cfg)  // or Start(cfg) for an error; call srv.Close()
//
// srv.URL is "http://127.0.0.1:<port>". Config selects the release (4.4,
// 4.6 [default], 4.7.0, 4.8, …), limits (MaxFileSize, ChunkSize, ChunkMax,
// ChunksDisabled), rate limits (on by default, like the real server; turn
// them off or shorten the window for bulk tests), FixFirstChunkDoubleCount,
// ProcessingDelay, StoreDir or HashOnly, ReturnHTTPS, DefaultDomain and
// more. Config.TLS serves https with a self-signed certificate (CertPEM,
// Client). cmd/fakezipline runs the same server as a process.
//
// # Users and credentials
//
//	alice := srv.AddUser("alice", "pw", ziplinetest.RoleUser) // RoleAdmin is not rate limited
//	tok := alice.Token()            // valid API token; a new string every call
//	srv.ResetToken("alice")         // every token of alice dies (PATCH /api/user/token)
//	srv.SetCoreSecret("…")          // every token of everyone dies
//	totp, _ := srv.EnableTOTP("alice"); code := totp.Code()
//	alice.RawSecret()               // login's user.token: NOT accepted as a token (#725)
//
// Tokens are real AES-256-GCM (AES-CBC before 4.4.1) encryptions of the
// user's secret under SHA-256(CORE_SECRET), as the server builds them. Only
// the bare "Authorization: <token>" works; "Bearer <token>" is a 401.
// POST /api/auth/login sets the zipline_session cookie; GET /api/auth/logout
// ends the session (token-only logout is a 500, as in 4.6.3).
//
// # Routes
//
// /api/healthcheck, /api/server/public (≥4.3), /api/setup, /api/version,
// /api/auth/login, /api/auth/logout, /api/user, /api/user/token (GET,
// PATCH), /api/user/stats, POST /api/upload (multipart, many parts, every
// x-zipline-* option validated), POST /api/upload/partial (generations B
// ≤4.6, C 4.7, D ≥4.8; A on /api/upload before 4.2.2),
// /api/user/files/incomplete (GET, DELETE), /api/user/recent,
// /api/user/files, /api/user/files/:idOrName (GET, DELETE, /raw),
// /api/user/folders (GET, POST), /api/user/folders/:id, /api/user/urls
// (GET, POST), /u/:name, /raw/:name,
// /go/:code, /manifest.json, and an HTML shell for other pages. Anything
// else is Fastify's 404.
//
// # Assertions
//
//	srv.Files()            // name, client filename, type, size, sha256, options, owner, folder, complete
//	srv.WaitFiles(ctx, 3)  // wait (no sleeping) until 3 complete files arrived
//	srv.WaitComplete(ctx, id)
//	srv.Requests()         // method, path, headers, body bytes read, status (0: dropped), time
//	srv.Incompletes(), srv.URLs(), srv.Sessions("alice")
//
// Upload bodies are never held in memory: parts stream to StoreDir (default
// a temporary directory removed by Close) or, with HashOnly, only through
// SHA-256.
//
// # Faults (safe to change while requests run)
//
//	srv.SetUploadRateLimit(ziplinetest.RateLimit{Max: 2, Window: time.Second})
//	srv.FailNext(2, ziplinetest.Failure{Path: "/api/upload", Status: 502, HTML: true})
//	srv.DropNext(1, "/api/upload", 64<<10) // close the connection after 64 KiB of body
//	srv.SetProxyLimit(1 << 20)             // nginx HTML 413 above 1 MiB
//	srv.SetDelay("/api/upload", 2*time.Second)
//	srv.Down(); srv.Up()                   // connection refused, then back on the same port
//	srv.ClearFaults()
//
// Not imitated: OAuth, passkeys, password-protected file access tokens,
// thumbnails, image compression (headers are validated, bytes stored as
// sent), tags, file editing, folder creation over HTTP, view counting
// rules beyond a counter (max views and expiry take effect when the file is
// next fetched).
package ziplinetest
