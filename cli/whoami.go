package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline"
)

var whoamiCmd = Command{
	Name:    "whoami",
	Summary: "show who you are signed in as, and where",
	Usage: `Usage: zipline-tray whoami [--server URL]

Asks the server who the saved token (or ZIPLINE_TOKEN) belongs to and
prints the user, role, server, server version (when the server tells)
and where the token came from.

Exit status: 0 signed in, 1 the server could not be asked, 3 not signed
in or the token was rejected (run "zipline-tray login").`,
}

var versionCmd = Command{
	Name:    "version",
	Summary: "print the version of zipline-tray",
	Usage: `Usage: zipline-tray version

Prints the version of zipline-tray and of Go it was built with.`,
}

func init() {
	whoamiCmd.Run = runWhoami
	versionCmd.Run = runVersion
	register(whoamiCmd)
	register(versionCmd)
}

func runWhoami(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(whoamiCmd.Name)
	server := fs.String("server", "", "ask this server `URL` (default: the signed-in one, or $ZIPLINE_SERVER)")
	pos, code, done := parseFlags(env, fs, whoamiCmd, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(env, whoamiCmd, "unexpected argument %q", pos[0])
	}
	sess, code := env.signIn(ctx, signInOptions{server: *server})
	if sess == nil {
		return code
	}
	u, err := sess.client.User(ctx)
	if err != nil {
		var ae *zipline.APIError
		if !errors.Is(err, zipline.ErrUnauthorized) && errors.As(err, &ae) {
			if nz := notZipline(ctx, sess.client); nz != nil {
				err = nz
			}
		}
		return env.failure(err, sess.server)
	}
	version := serverVersion(ctx, sess.client)
	source := map[string]string{
		auth.SourceKeyring: "keyring",
		auth.SourceEnv:     "environment (" + auth.TokenEnv + ")",
		auth.SourceFlag:    "command line",
	}[sess.creds.Source]
	var b strings.Builder
	fmt.Fprintf(&b, "user:    %s\n", u.Username)
	fmt.Fprintf(&b, "role:    %s\n", u.Role)
	fmt.Fprintf(&b, "server:  %s\n", sess.server)
	if version != "" {
		fmt.Fprintf(&b, "version: %s\n", version)
	}
	if source != "" {
		fmt.Fprintf(&b, "token:   from the %s\n", source)
	}
	fmt.Fprint(env.Stdout, env.redact(b.String()))
	return ExitOK
}

// serverVersion is the server's version if it says, else "" — asking is
// best effort (non-admins and air-gapped servers often get no answer).
func serverVersion(ctx context.Context, c *zipline.Client) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if v, err := c.ServerVersion(ctx); err == nil && v != "" {
		return v
	}
	if info, err := c.Probe(ctx); err == nil {
		return info.Version
	}
	return ""
}

func runVersion(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(versionCmd.Name)
	pos, code, done := parseFlags(env, fs, versionCmd, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(env, versionCmd, "unexpected argument %q", pos[0])
	}
	kind := ""
	if !guiBuild {
		kind = ", command line only"
	}
	fmt.Fprintf(env.Stdout, "zipline-tray %s (%s %s/%s%s)\n", zipline.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, kind)
	return ExitOK
}
