package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/uploader"
	"github.com/zipline-tray/zipline-tray/zipline"
)

var importCmd = Command{
	Name:    "import",
	Summary: "sign in with an uploader config (.sxcu, .iscu, .itup) made by Zipline",
	Usage: `Usage: zipline-tray import [flags] FILE.sxcu|FILE.iscu|FILE.itup

Signs in with the token inside an uploader configuration that Zipline v4
generates (dashboard: Settings → Generators → ShareX, ishare or itake).
The token is checked against the server first, then kept in the system
keyring. The config's upload options (x-zipline-* headers: name format,
expiry, compression, max views, domain...) become the default upload
options in the settings; other headers (e.g. Cloudflare Access) are sent
with every request.

Configs made by Zipline v3, or for other hosts (Imgur...), are refused:
their tokens do not work with a Zipline v4 server.

Exit status: 0 imported, 1 not imported (not a Zipline v4 config, token
rejected, unreachable server, no keyring), 2 usage error.

Example:
  zipline-tray import ~/Downloads/zipline-file.sxcu`,
}

func init() {
	importCmd.Run = runImport
	register(importCmd)
}

// maxConfigSize bounds what is read: real configs are well under 4 KiB.
const maxConfigSize = 1 << 20

func runImport(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(importCmd.Name)
	allowHTTP := fs.Bool("allow-http", false, "allow a plain http:// server on another machine (sends the token unencrypted)")
	pos, code, done := parseFlags(env, fs, importCmd, args)
	if done {
		return code
	}
	if len(pos) != 1 {
		return usageError(env, importCmd, "give exactly one uploader config file")
	}
	file := pos[0]
	data, err := readConfigFile(file)
	if err != nil {
		env.errorf("zipline-tray import: %v\n", err)
		return ExitFailure
	}
	cfg, err := env.config()
	if err != nil {
		env.errorf("zipline-tray import: %v\n", err)
		return ExitFailure
	}
	name := filepath.Base(file)
	uc, err := auth.ParseUploaderConfig(data)
	if err != nil {
		env.errorf("zipline-tray import: %s\n", ImportError(name, err))
		return ExitFailure
	}
	env.secrets = append(env.secrets, uc.Token)

	if _, err := env.store().Get(uc.Server, "~probe"); errors.Is(err, auth.ErrNoKeyring) {
		env.errorf("zipline-tray import: %s\nWithout a keyring, set %s=%s and %s=<the token> in the environment instead.\n",
			explain(err), auth.ServerEnv, uc.Server, auth.TokenEnv)
		return ExitFailure
	}
	// Connection settings: the saved ones only when they are for this server.
	conn := *cfg
	if !sameServer(cfg.Server, uc.Server) {
		conn.Headers, conn.CAFile, conn.AllowHTTP = nil, "", false
	}
	conn.AllowHTTP = conn.AllowHTTP || *allowHTTP
	res, uc, err := auth.SignInUploaderConfig(ctx, data, &conn)
	if err != nil {
		env.errorf("zipline-tray import: %s: %s\n", name, explain(err))
		if errors.Is(err, zipline.ErrInsecureHTTP) {
			return ExitUsage
		}
		return ExitFailure
	}

	if !sameServer(cfg.Server, uc.Server) {
		cfg.Headers, cfg.CAFile = nil, ""
	}
	cfg.AllowHTTP = conn.AllowHTTP
	uc.Apply(cfg)
	p, err := env.paths()
	if err == nil {
		err = auth.Save(cfg, p.ConfigFile(), env.store(), res)
	}
	if err != nil {
		env.errorf("zipline-tray import: %s\n", explain(err))
		return ExitFailure
	}
	fmt.Fprint(env.Stdout, ImportSummary(name, res, uc))
	if env.Getenv(auth.TokenEnv) != "" {
		env.errorf("Note: %s is set in your environment and is used instead of this sign-in.\n", auth.TokenEnv)
	}
	if err := uploader.Notify(p.StateDir, uploader.OpReloadCredentials); err == nil {
		fmt.Fprintln(env.Stdout, "The running zipline-tray now uses this sign-in.")
	}
	return ExitOK
}

func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s is too large to be an uploader config", path)
	}
	return data, nil
}

// ImportError says why a config file was refused, for the CLI and the app.
func ImportError(name string, err error) string {
	switch {
	case errors.Is(err, zipline.ErrV3):
		return name + " is a Zipline v3 config; its token does not work with Zipline v4. " +
			"Get a new token from your v4 server: generate the config again there (Settings → Generators → ShareX) and import that file, or run zipline-tray login."
	case errors.Is(err, auth.ErrNotUploaderConfig):
		return name + " is not a Zipline uploader config: " + strings.TrimSuffix(explain(err), ".") +
			". Import a config made by your Zipline server (Settings → Generators → ShareX, ishare or itake)."
	}
	return name + ": " + explain(err)
}

// ImportSummary says what an import changed, one fact per line.
func ImportSummary(name string, res *auth.Result, uc *auth.UploaderConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Imported %s: signed in to %s as %s. The token is in the system keyring.\n", name, res.Server, res.Username)
	if uc.Shortener {
		b.WriteString("This is a URL-shortener config: it sets no upload options.\n")
	} else if opts := describeDefaults(uc.Upload); len(opts) > 0 {
		fmt.Fprintf(&b, "Default upload options now: %s.\n", strings.Join(opts, ", "))
	} else {
		b.WriteString("The config sets no upload options; the defaults are unchanged.\n")
	}
	if len(uc.Headers) > 0 {
		names := make([]string, 0, len(uc.Headers))
		for k := range uc.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Fprintf(&b, "Sent with every request from now on: %s.\n", strings.Join(names, ", "))
	}
	if len(uc.Ignored) > 0 {
		fmt.Fprintf(&b, "Not imported: %s (a file password is asked for per upload; other headers are unknown to this version).\n", strings.Join(uc.Ignored, ", "))
	}
	return b.String()
}

// describeDefaults lists the upload options the config set.
func describeDefaults(u auth.UploadDefaults) []string {
	var out []string
	add := func(k, v string) { out = append(out, k+" "+v) }
	if u.Format != "" {
		add("name format", u.Format)
	}
	if u.DeletesAt != "" {
		add("delete after", u.DeletesAt)
	}
	if u.CompressionPercent != nil {
		add("image compression", strconv.Itoa(*u.CompressionPercent)+"%")
	}
	if u.CompressionType != "" {
		add("compress to", u.CompressionType)
	}
	if u.MaxViews > 0 {
		add("max views", strconv.Itoa(u.MaxViews))
	}
	if u.OriginalName {
		out = append(out, "keep original name")
	}
	if u.Folder != "" {
		add("folder", u.Folder)
	}
	if u.Domain != "" {
		add("domain", u.Domain)
	}
	if u.Extensionless {
		out = append(out, "links without extension")
	}
	return out
}
