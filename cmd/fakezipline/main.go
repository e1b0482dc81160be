// Command fakezipline runs the fake Zipline server of package ziplinetest,
// for demos and benchmarks. It prints the base URL as the first line of
// standard output and, with -print-token, a valid API token as the second,
// then serves until SIGINT or SIGTERM.
//
//	fakezipline -addr 127.0.0.1:0 -user demo -password demo -print-token -hash-only
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakezipline:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakezipline", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	ver := fs.String("version", "4.6", "Zipline release to imitate (4.4, 4.6, 4.7.0, 4.8, ...)")
	maxFile := fs.String("max-file-size", "100mb", "files.maxFileSize")
	chunkSize := fs.String("chunk-size", "25mb", "chunks.size")
	chunkMax := fs.String("chunk-max", "95mb", "chunks.max (files this big or bigger are chunked)")
	noChunks := fs.Bool("no-chunks", false, "chunks.enabled=false")
	noRate := fs.Bool("no-rate-limit", false, "turn off the upload and login rate limits")
	store := fs.String("store", "", "directory for received files (default: a temporary one, removed on exit)")
	hashOnly := fs.Bool("hash-only", false, "do not store received bytes, only hash and count them")
	fixDouble := fs.Bool("fix-double-count", false, "do not count the first chunk twice (the 4.4/4.6 bug)")
	delay := fs.Duration("processing-delay", 0, "how long chunked uploads take to assemble")
	user := fs.String("user", "", "seed a user with this name")
	password := fs.String("password", "password", "password of the seeded user")
	admin := fs.Bool("admin", false, "make the seeded user an ADMIN (not rate limited)")
	printToken := fs.Bool("print-token", false, "print a valid API token of the seeded user as the second line (implies -user demo)")
	totp := fs.Bool("totp", false, "turn on two-factor login for the seeded user (the secret is logged to stderr)")
	proxyLimit := fs.String("proxy-limit", "", "answer nginx's HTML 413 for request bodies over this size (e.g. 1mb)")
	useTLS := fs.Bool("tls", false, "serve https with a self-signed certificate")
	certOut := fs.String("cert-out", "", "with -tls, write the certificate (PEM) to this file for clients to trust")
	verbose := fs.Bool("v", false, "log every request to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	size := func(name, v string) (int64, error) {
		n, ok := ziplinetest.ParseSize(v)
		if !ok || n <= 0 {
			return 0, fmt.Errorf("-%s %q: want a size like 100mb", name, v)
		}
		return n, nil
	}
	cfg := ziplinetest.Config{Version: *ver, Addr: *addr, ChunksDisabled: *noChunks, StoreDir: *store,
		HashOnly: *hashOnly, FixFirstChunkDoubleCount: *fixDouble, ProcessingDelay: *delay, TLS: *useTLS}
	var err error
	if cfg.MaxFileSize, err = size("max-file-size", *maxFile); err != nil {
		return err
	}
	if cfg.ChunkSize, err = size("chunk-size", *chunkSize); err != nil {
		return err
	}
	if cfg.ChunkMax, err = size("chunk-max", *chunkMax); err != nil {
		return err
	}
	if *noRate {
		cfg.UploadRateLimit.Off = true
		cfg.LoginRateLimit.Off = true
	}
	if *verbose {
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		cfg.Logf = func(format string, a ...any) { log.Info(fmt.Sprintf(format, a...)) }
	}
	var limit int64
	if *proxyLimit != "" {
		if limit, err = size("proxy-limit", *proxyLimit); err != nil {
			return err
		}
	}
	srv, err := ziplinetest.Start(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.SetProxyLimit(limit)
	if *certOut != "" {
		if !*useTLS {
			return fmt.Errorf("-cert-out needs -tls")
		}
		if err := os.WriteFile(*certOut, srv.CertPEM(), 0o644); err != nil {
			return fmt.Errorf("write certificate: %w", err)
		}
	}
	if *printToken && *user == "" {
		*user = "demo"
	}
	var tok string
	if *user != "" {
		role := ziplinetest.RoleUser
		if *admin {
			role = ziplinetest.RoleAdmin
		}
		tok = srv.AddUser(*user, *password, role).Token()
		if *totp {
			t, err := srv.EnableTOTP(*user)
			if err != nil {
				return err
			}
			slog.Info("two-factor login on", "user", *user, "totp_secret", t.Secret, "code_now", t.Code())
		}
	}
	fmt.Println(srv.URL)
	if *printToken {
		fmt.Println(tok)
	}
	slog.Info("fake zipline serving", "url", srv.URL, "version", srv.Version(), "store", srv.StoreDir())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return nil
}
