package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline"
)

// uploadJobs is how many files upload at once. Zipline handles each upload
// in one request; two keep a link busy without tripping the rate limit
// sooner than one would.
const uploadJobs = 2

// maxRateWait bounds how long upload waits out one 429 before giving up.
const maxRateWait = 2 * time.Minute

var uploadCmd = Command{
	Name:    "upload",
	Summary: "upload files and print their links",
	Usage: `Usage: zipline-tray upload [flags] FILE...

Uploads each FILE to the signed-in Zipline server and prints one link per
file, in the order given, once the server has the whole file. A file that
fails is reported on stderr as "FILE: reason"; the others still upload.
Flags may come before or after the files; "--" ends the flags. A FILE of
"-" reads standard input (e.g. a screenshot tool's output).

Settings saved in the config (upload defaults) apply when a flag is not
given. ZIPLINE_SERVER and ZIPLINE_TOKEN override the saved sign-in.

Exit status: 0 all uploaded, 1 some file failed, 2 usage error,
3 the server rejected the token (run "zipline-tray login").

Examples:
  zipline-tray upload shot.png
  zipline-tray upload --expires 1d --copy *.png
  zipline-tray upload --folder Screenshots --format name report.pdf
  grim - | zipline-tray upload --copy -`,
}

func init() {
	uploadCmd.Run = runUpload
	register(uploadCmd)
}

// uploadFlags are the upload command's flags as given.
type uploadFlags struct {
	format, expires, passwordFile, compressType string
	filename, extension, domain, folder, server string
	stdinName                                   string
	compress, maxViews                          int
	originalName, extensionless, copy, noProg   bool
	set                                         map[string]bool // flags given on the command line
}

func (f *uploadFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "format", "", "name `FORMAT` for stored files: random, uuid, date, name, random-words (gfycat)")
	fs.StringVar(&f.expires, "expires", "", "delete the files after `WHEN`: 30m, 2h, 1d, 2w, a date (2026-12-31 or RFC 3339), or never")
	fs.IntVar(&f.maxViews, "max-views", 0, "delete each file after `N` views")
	fs.StringVar(&f.passwordFile, "password-file", "", "protect the files with the password in `FILE` (first line; - reads stdin)")
	fs.IntVar(&f.compress, "compress", 0, "recompress images at `PERCENT` quality (0-100; images only)")
	fs.StringVar(&f.compressType, "compress-type", "", "image `FORMAT` for --compress: jpg, png, webp, jxl")
	fs.BoolVar(&f.originalName, "original-name", false, "keep the original file name on the server (shown in downloads)")
	fs.StringVar(&f.folder, "folder", "", "put the files in the folder with this `NAME or ID`")
	fs.StringVar(&f.filename, "filename", "", "store the file under `NAME` (without extension; one file only)")
	fs.StringVar(&f.extension, "extension", "", "store the file with extension `EXT` instead of its own")
	fs.StringVar(&f.domain, "domain", "", "make links on `HOST` (one of the server's domains)")
	fs.BoolVar(&f.extensionless, "extensionless", false, "links without the file extension (Zipline 4.7+, if the server allows)")
	fs.BoolVar(&f.copy, "copy", false, "also copy the links to the clipboard")
	fs.BoolVar(&f.noProg, "no-progress", false, "no progress bar")
	fs.StringVar(&f.stdinName, "name", "", "file `NAME` for data read from standard input (FILE -); its extension tells the type (default: guessed from the content)")
	fs.StringVar(&f.server, "server", "", "upload to this server `URL` (default: the signed-in one, or $ZIPLINE_SERVER)")
}

func runUpload(ctx context.Context, env *Env, args []string) int {
	var f uploadFlags
	fs := newFlags("upload")
	f.define(fs)
	files, code, done := parseFlags(env, fs, uploadCmd, args)
	if done {
		return code
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if len(files) == 0 {
		return usageError(env, uploadCmd, "no files given")
	}
	if f.filename != "" && len(files) > 1 {
		return usageError(env, uploadCmd, "--filename names one file; it was given %d (the server would refuse the second with a name clash)", len(files))
	}
	stdinAt := -1
	for i, a := range files {
		if a != "-" {
			continue
		}
		if stdinAt >= 0 {
			return usageError(env, uploadCmd, "- (standard input) can be given only once")
		}
		stdinAt = i
	}
	if stdinAt >= 0 && f.passwordFile == "-" {
		return usageError(env, uploadCmd, "standard input cannot hold both the file (-) and the password (--password-file -)")
	}
	if stdinAt >= 0 && env.StdinIsTerminal {
		return usageError(env, uploadCmd, "- reads the file from standard input, which is a terminal: pipe the data in (e.g. grim - | zipline-tray upload -)")
	}
	if f.stdinName != "" && (stdinAt < 0 || strings.ContainsAny(f.stdinName, `/\`)) {
		return usageError(env, uploadCmd, "--name names the data read from standard input (FILE -), without folders")
	}
	password := ""
	if f.passwordFile != "" {
		p, err := readPasswordFile(env, f.passwordFile)
		if err != nil {
			return usageError(env, uploadCmd, "--password-file: %v", err)
		}
		password = p
	}
	cfg, err := env.config()
	if err != nil {
		env.errorf("zipline-tray: %v\n", err)
		return ExitFailure
	}
	opts, folder, err := f.options(cfg.Upload, time.Now())
	if err != nil {
		return usageError(env, uploadCmd, "%v", err)
	}
	opts.Password = password
	sess, code := env.signIn(ctx, signInOptions{server: f.server})
	if sess == nil {
		return code
	}
	if env.Recorder == nil && env.History {
		if p, err := env.paths(); err == nil {
			env.Recorder = HistoryRecorder{StateDir: p.StateDir}
		}
	}
	if folder != "" {
		id, err := resolveFolder(ctx, sess.client, folder)
		if err != nil {
			return env.failure(err, "--folder "+folder)
		}
		opts.Folder = id
	}
	labels := append([]string(nil), files...)
	if stdinAt >= 0 {
		path, cleanup, err := spoolStdin(env.Stdin, f.stdinName)
		if err != nil {
			env.errorf("-: %v\n", err)
			return ExitFailure
		}
		defer cleanup()
		files[stdinAt] = path
	}
	return env.uploadFiles(ctx, sess, files, labels, opts, f.copy, env.StderrIsTerminal && !f.noProg)
}

// spoolStdin copies standard input to a private temporary file named name
// (or "stdin" with an extension guessed from the content), since an upload
// needs the size up front and may read the data twice.
func spoolStdin(r io.Reader, name string) (path string, cleanup func(), err error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", nil, fmt.Errorf("read standard input: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return "", nil, plainError("standard input was empty: nothing to upload")
	}
	if name == "" {
		name = "stdin" + extFor(http.DetectContentType(head))
	}
	dir, err := os.MkdirTemp("", "zipline-tray-stdin-")
	if err != nil {
		return "", nil, fmt.Errorf("keep standard input: %w", err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	path = filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err == nil {
		_, err = f.Write(head)
		if err == nil {
			_, err = io.Copy(f, r)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("keep standard input in %s: %w", dir, err)
	}
	return path, cleanup, nil
}

// extFor is the usual extension of a MIME type ("" when unknown).
func extFor(ctype string) string {
	ctype, _, _ = strings.Cut(ctype, ";")
	switch ctype {
	case "image/jpeg":
		return ".jpg"
	case "text/plain":
		return ".txt"
	case "application/octet-stream":
		return ""
	}
	if exts, _ := mime.ExtensionsByType(ctype); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// options maps the flags, falling back on the saved defaults, to the
// upload headers. The folder is returned apart: it may be a name the
// server has to resolve.
func (f *uploadFlags) options(d auth.UploadDefaults, now time.Time) (zipline.UploadOptions, string, error) {
	var o zipline.UploadOptions
	pick := func(name, flagVal, def string) string {
		if f.set[name] {
			return flagVal
		}
		return def
	}
	o.Format = strings.ToLower(pick("format", f.format, d.Format))
	switch o.Format {
	case "", "random", "uuid", "date", "name", "gfycat", "random-words":
	default:
		return o, "", fmt.Errorf("--format %q: use random, uuid, date, name or random-words", o.Format)
	}
	exp, err := parseExpiry(pick("expires", f.expires, d.DeletesAt), now)
	if err != nil {
		return o, "", fmt.Errorf("--expires: %w", err)
	}
	o.DeletesAt = exp
	o.MaxViews = d.MaxViews
	if f.set["max-views"] {
		if f.maxViews < 1 {
			return o, "", fmt.Errorf("--max-views must be 1 or more")
		}
		o.MaxViews = f.maxViews
	}
	o.CompressionPercent = d.CompressionPercent
	if f.set["compress"] {
		if f.compress < 0 || f.compress > 100 {
			return o, "", fmt.Errorf("--compress %d: give a quality from 0 to 100", f.compress)
		}
		p := f.compress
		o.CompressionPercent = &p
	}
	o.CompressionType = strings.ToLower(strings.TrimPrefix(pick("compress-type", f.compressType, d.CompressionType), "."))
	switch o.CompressionType {
	case "", "jpg", "jpeg", "png", "webp", "jxl":
	default:
		return o, "", fmt.Errorf("--compress-type %q: use jpg, png, webp or jxl", o.CompressionType)
	}
	if o.CompressionType != "" && o.CompressionPercent == nil {
		if f.set["compress-type"] {
			return o, "", fmt.Errorf("--compress-type needs --compress PERCENT (the server ignores the type without a quality)")
		}
		o.CompressionType = "" // a saved type with no saved percent means nothing
	}
	o.OriginalName = d.OriginalName || f.originalName
	if f.set["original-name"] {
		o.OriginalName = f.originalName
	}
	o.Extensionless = d.Extensionless || f.extensionless
	if f.set["extensionless"] {
		o.Extensionless = f.extensionless
	}
	o.Domain = pick("domain", f.domain, d.Domain)
	if strings.Contains(o.Domain, "/") {
		return o, "", fmt.Errorf("--domain %q: give a host name such as files.example.com, without https:// or a path", o.Domain)
	}
	o.FileExtension = strings.TrimPrefix(f.extension, ".")
	if strings.ContainsAny(o.FileExtension, `/\`) || strings.Contains(o.FileExtension, "..") {
		return o, "", fmt.Errorf("--extension %q: give an extension such as png", f.extension)
	}
	o.Filename = f.filename
	if strings.ContainsAny(o.Filename, `/\`) || o.Filename == ".." {
		return o, "", fmt.Errorf("--filename %q: give a name without folders", f.filename)
	}
	if !f.set["folder"] {
		o.Folder = d.Folder // the settings hold a folder id
		return o, "", nil
	}
	return o, f.folder, nil
}

var durationRE = regexp.MustCompile(`^\d+(\.\d+)?\s*(ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?|y|yrs?|years?)$`)

// parseExpiry turns --expires into the x-zipline-deletes-at value: "never",
// a duration the server parses ("1d"), or "date=<ISO 8601 UTC>".
func parseExpiry(s string, now time.Time) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return "", nil
	case s == "never":
		return s, nil
	case durationRE.MatchString(s):
		return s, nil
	case regexp.MustCompile(`^\d+(\.\d+)?$`).MatchString(s):
		return "", fmt.Errorf("%q has no unit: the server would read milliseconds; write e.g. %sm, %sh or %sd", s, s, s, s)
	}
	s = strings.TrimPrefix(s, "date=")
	var t time.Time
	var err error
	if len(s) == len("2006-01-02") {
		t, err = time.ParseInLocation("2006-01-02", s, now.Location())
	} else {
		t, err = time.Parse(time.RFC3339, strings.ToUpper(s))
	}
	if err != nil {
		return "", fmt.Errorf("%q: give a duration (30m, 2h, 1d, 2w), a date (2026-12-31 or 2026-12-31T18:00:00Z) or never", s)
	}
	if !t.After(now) {
		return "", fmt.Errorf("%s is in the past", s)
	}
	return "date=" + t.UTC().Format("2006-01-02T15:04:05.000Z"), nil
}

func readPasswordFile(env *Env, name string) (string, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(io.LimitReader(env.Stdin, 1<<16))
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return "", err
	}
	p, _, _ := strings.Cut(string(b), "\n")
	p = strings.TrimRight(p, "\r")
	if p == "" {
		return "", fmt.Errorf("%s is empty: put the password on its first line", name)
	}
	return p, nil
}

// resolveFolder turns a folder name or id into an id, through the user's
// folder list.
func resolveFolder(ctx context.Context, c *zipline.Client, nameOrID string) (string, error) {
	folders, err := c.Folders(ctx)
	if err != nil {
		return "", fmt.Errorf("list folders: %w", err)
	}
	var exact, fold []zipline.Folder
	for _, f := range folders {
		switch {
		case f.ID == nameOrID:
			return f.ID, nil
		case f.Name == nameOrID:
			exact = append(exact, f)
		case strings.EqualFold(f.Name, nameOrID):
			fold = append(fold, f)
		}
	}
	if len(exact) == 0 {
		exact = fold
	}
	switch len(exact) {
	case 1:
		return exact[0].ID, nil
	case 0:
		names := make([]string, 0, len(folders))
		for _, f := range folders {
			names = append(names, f.Name)
		}
		if len(names) == 0 {
			return "", plainError(fmt.Sprintf("you have no folder called %q (you have no folders; create one in the web dashboard)", nameOrID))
		}
		return "", plainError(fmt.Sprintf("you have no folder called %q; your folders: %s", nameOrID, strings.Join(names, ", ")))
	}
	ids := make([]string, len(exact))
	for i, f := range exact {
		ids[i] = f.ID
	}
	return "", plainError(fmt.Sprintf("%d folders are called %q; pick one by id: %s", len(exact), nameOrID, strings.Join(ids, ", ")))
}

// uploadResult is the outcome of one argument.
type uploadResult struct {
	done   chan struct{}
	url    string
	fileID string
	err    error
}

// uploadFiles uploads files uploadJobs at a time and prints the results in
// argument order: URLs on stdout, "FILE: reason" on stderr. A 401 stops the
// run.
func (env *Env) uploadFiles(ctx context.Context, sess *session, files, labels []string, opts zipline.UploadOptions, copyLinks, showProgress bool) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bar *progressBar
	if showProgress {
		bar = newProgressBar(env.Stderr, env.TermWidth, 200*time.Millisecond)
		defer bar.close()
	}
	results := make([]*uploadResult, len(files))
	for i := range results {
		results[i] = &uploadResult{done: make(chan struct{})}
	}
	var rejected sync.Once
	signInAgain := make(chan struct{})
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(uploadJobs, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r := results[i]
				r.url, r.fileID, r.err = env.uploadOne(ctx, sess, i, files[i], labels[i], opts, bar)
				if errors.Is(r.err, zipline.ErrUnauthorized) {
					rejected.Do(func() { close(signInAgain); cancel() })
				}
				close(r.done)
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range files {
			select {
			case jobs <- i:
			case <-ctx.Done():
				for _, r := range results[i:] {
					r.err = ctx.Err()
					close(r.done)
				}
				return
			}
		}
	}()

	code := ExitOK
	var links []string
	for i, r := range results {
		<-r.done
		select {
		case <-signInAgain:
			code = ExitSignIn
		default:
		}
		switch {
		case r.err == nil:
			bar.printf(env.Stdout, "%s\n", r.url)
			links = append(links, r.url)
		case code == ExitSignIn && errors.Is(r.err, context.Canceled):
			bar.printf(env.Stderr, "%s\n", env.redact(labels[i]+": not uploaded: sign in again first"))
		default:
			if code == ExitOK {
				code = ExitFailure
			}
			bar.printf(env.Stderr, "%s\n", env.redact(labels[i]+": "+reason(r.err)))
		}
	}
	wg.Wait()
	bar.close()
	if code == ExitFailure && len(links) == 0 && anyServerError(results) {
		if nz := notZipline(ctx, sess.client); nz != nil {
			env.errorf("zipline-tray: %s: %s\n", sess.server, explain(nz))
		}
	}
	if code == ExitSignIn {
		env.errorf("zipline-tray: %s rejected the token: sign in again with\n  zipline-tray login\n", sess.server)
		return code
	}
	if copyLinks && len(links) > 0 {
		if err := env.Clipboard(ctx, strings.Join(links, "\n")); err != nil {
			env.errorf("zipline-tray: the link was not copied: %v\n", err)
			return ExitFailure
		}
	}
	return code
}

// anyServerError reports whether some upload failed with an answer from
// the server (rather than a local file problem).
func anyServerError(results []*uploadResult) bool {
	for _, r := range results {
		var ae *zipline.APIError
		if errors.As(r.err, &ae) {
			return true
		}
	}
	return false
}

// uploadOne checks and uploads one file, waiting out rate limits.
func (env *Env) uploadOne(ctx context.Context, sess *session, i int, path, label string, opts zipline.UploadOptions, bar *progressBar) (url, id string, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	up, err := openUpload(path)
	if err != nil {
		return "", "", err
	}
	if opts.Filename != "" {
		// "report.pdf" for a .pdf would be stored as report.pdf.pdf.
		opts.Filename = strings.TrimSuffix(opts.Filename, filepath.Ext(up.Name))
	}
	up, contentSum := hashWhileSending(up)
	name := filepath.Base(path)
	defer bar.done(i)
	for {
		f, err := sess.client.Upload(ctx, up, opts, func(sent, total int64) { bar.update(i, name, sent, total) })
		var ae *zipline.APIError
		if errors.Is(err, zipline.ErrRateLimited) && errors.As(err, &ae) {
			wait := ae.RetryAfter
			if wait <= 0 {
				wait = 10 * time.Second
			}
			if wait > maxRateWait {
				return "", "", err
			}
			bar.printf(env.Stderr, "%s: the server's rate limit was reached; trying again in %s\n", label, wait.Round(time.Second))
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return "", "", ctx.Err()
			case <-t.C:
			}
			continue
		}
		if errors.Is(err, zipline.ErrTooLarge) {
			if lim, lerr := sess.client.Limits(ctx); lerr == nil && lim.MaxFileSize > 0 && up.Size > lim.MaxFileSize {
				return "", "", plainError(fmt.Sprintf("too large for this server: the file is %s, the server takes at most %s; ask the admin to raise files.maxFileSize",
					sizeText(up.Size), sizeText(lim.MaxFileSize)))
			}
		}
		if err != nil {
			return "", "", err
		}
		abs, aerr := filepath.Abs(path)
		if aerr != nil {
			abs = path
		}
		u := Uploaded{Path: abs, URL: f.URL, FileID: f.ID, Name: f.Name, Server: sess.server, Size: up.Size,
			Options: opts, DeletesAt: f.DeletesAt, Time: time.Now(), SHA256: contentSum()}
		u.User, _ = sess.client.UserID(ctx)
		if rerr := env.record(ctx, u); rerr != nil {
			bar.printf(env.Stderr, "%s: uploaded, but not added to the history: %v\n", label, rerr)
		}
		return f.URL, f.ID, nil
	}
}

// plainError is a message already in plain words, shown as is.
type plainError string

func (e plainError) Error() string { return string(e) }

// openUpload checks that path is a readable regular file before any
// network traffic, with messages in plain words.
func openUpload(path string) (zipline.Upload, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return zipline.Upload{}, plainError("no such file")
	case errors.Is(err, fs.ErrPermission):
		return zipline.Upload{}, plainError("permission denied: you may not read this file")
	case err != nil:
		return zipline.Upload{}, err
	case st.IsDir():
		return zipline.Upload{}, plainError("is a folder; upload the files in it instead, e.g. zipline-tray upload " + shellQuote(path) + string(filepath.Separator) + "*")
	case !st.Mode().IsRegular():
		return zipline.Upload{}, plainError("not a regular file")
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrPermission) {
		return zipline.Upload{}, plainError("permission denied: you may not read this file")
	}
	if err != nil {
		return zipline.Upload{}, err
	}
	f.Close()
	return zipline.FileUpload(path)
}

// reason says in plain words why an upload failed and what to do.
func reason(err error) string {
	var ae *zipline.APIError
	msg := ""
	if errors.As(err, &ae) && ae.Message != "" {
		msg = ae.Message
	}
	withMsg := func(s string) string {
		if msg != "" && !strings.Contains(s, msg) {
			return s + " (server said: " + msg + ")"
		}
		return s
	}
	var fe plainError
	switch {
	case errors.As(err, &fe):
		return string(fe)
	case errors.Is(err, context.Canceled):
		return "not uploaded: interrupted"
	case errors.Is(err, zipline.ErrUnauthorized):
		return "the server rejected the token; sign in again with zipline-tray login"
	case errors.Is(err, zipline.ErrTooLarge):
		return withMsg("too large for this server; ask the admin to raise the limit (files.maxFileSize, or the proxy's body limit)")
	case errors.Is(err, zipline.ErrQuota):
		return withMsg("your storage quota is full; delete files on the server or ask the admin for more")
	case errors.Is(err, zipline.ErrRateLimited):
		return withMsg("the server's rate limit was reached; wait a minute and try again")
	case errors.Is(err, zipline.ErrForbidden):
		return withMsg("the server does not allow this")
	case errors.Is(err, zipline.ErrNotFound):
		return withMsg("not found on the server (a folder that was deleted?)")
	case errors.Is(err, zipline.ErrBadRequest):
		return withMsg("the server refused the upload; check the upload flags")
	case errors.Is(err, zipline.ErrServer):
		status := ""
		if ae != nil {
			status = fmt.Sprintf(" (HTTP %d)", ae.Status)
		}
		return withMsg("the server failed" + status + "; try again later, or ask the admin to check its logs")
	}
	return explain(err)
}

// sizeText formats a byte count for people ("9.8 KiB", "1.2 GiB").
func sizeText(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	v, unit := float64(n)/1024, "KiB"
	for _, u := range []string{"MiB", "GiB", "TiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}
