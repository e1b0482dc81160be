package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/internal/autostart"
	"github.com/zipline-tray/zipline-tray/uploader"
)

var uninstallCmd = Command{
	Name:    "uninstall",
	Summary: "remove the sign-in, the login entry and all local data",
	Usage: `Usage: zipline-tray uninstall [--yes]

Removes what zipline-tray keeps on this computer: the start-at-login entry,
the token in the system keyring, the settings (config.json) and the local
state (upload queue, history, logs). It asks first; --yes skips the
question (for scripts). Files already uploaded stay on the server, and the
token stays valid there: reset it in the Zipline dashboard to revoke it.
The program itself is not removed: "make uninstall-files" does that for a
"make install", or delete the file.

Quit the running desktop app or "watch" first.

Exit status: 0 removed (or nothing to remove), 1 something could not be
removed, 2 not confirmed (no --yes and no terminal to ask on).`,
}

func init() {
	uninstallCmd.Run = runUninstall
	register(uninstallCmd)
}

func runUninstall(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(uninstallCmd.Name)
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	pos, code, done := parseFlags(env, fs, uninstallCmd, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(env, uninstallCmd, "unexpected argument %q", pos[0])
	}
	p, err := env.paths()
	if err != nil {
		env.errorf("zipline-tray uninstall: %v\n", err)
		return ExitFailure
	}
	if err := uploader.Notify(p.StateDir, uploader.OpPing); err == nil {
		env.errorf("zipline-tray uninstall: zipline-tray is running (the desktop app or watch): quit it first, then run this again.\n")
		return ExitFailure
	}
	cfg, err := env.config()
	if err != nil {
		// A broken settings file is removed too; there is no account to forget.
		cfg = auth.Defaults()
	}
	entry, _ := autostart.Path()
	startsAtLogin, _ := autostart.Enabled()

	var plan []string
	if startsAtLogin {
		plan = append(plan, "the start-at-login entry ("+entry+")")
	}
	if cfg.Username != "" {
		plan = append(plan, fmt.Sprintf("the token of %s on %s in the system keyring", cfg.Username, cfg.Server))
	}
	plan = append(plan, "the settings in "+p.ConfigDir)
	if !within(p.StateDir, p.ConfigDir) {
		plan = append(plan, "the upload queue, history and logs in "+p.StateDir)
	} else {
		plan[len(plan)-1] += ", with the upload queue, history and logs"
	}
	if !*yes {
		if !env.StdinIsTerminal {
			return usageError(env, uninstallCmd, "no terminal to ask on: pass --yes to remove everything")
		}
		fmt.Fprintf(env.Stderr, "This removes from this computer:\n  - %s\nUploaded files stay on the server. Continue? [y/N] ", strings.Join(plan, "\n  - "))
		ans, _ := env.readLine()
		if a := strings.ToLower(strings.TrimSpace(ans)); a != "y" && a != "yes" {
			fmt.Fprintln(env.Stdout, "Nothing removed.")
			return ExitOK
		}
	}

	failed := false
	fail := func(what string, err error) {
		env.errorf("zipline-tray uninstall: %s: %s\n", what, explain(err))
		failed = true
	}
	if err := autostart.Disable(); err != nil {
		fail("remove the start-at-login entry", err)
	}
	if cfg.Username != "" {
		if err := env.store().Delete(cfg.Server, cfg.Username); err != nil && !errors.Is(err, auth.ErrNotSignedIn) {
			fail("remove the token from the keyring", err)
		}
	}
	if err := removeOwnDir(p.StateDir, "state"); err != nil {
		fail("remove the local state", err)
	}
	if err := removeOwnDir(p.ConfigDir, ""); err != nil {
		fail("remove the settings", err)
	}
	if failed {
		return ExitFailure
	}
	fmt.Fprintln(env.Stdout, "Removed: "+strings.Join(plan, "; ")+".")
	if exe, err := os.Executable(); err == nil {
		fmt.Fprintf(env.Stdout, "The program itself is still at %s; delete it (or run make uninstall-files) to finish.\n", exe)
	}
	return ExitOK
}

// removeOwnDir removes dir when it is zipline-tray's own folder (named
// zipline-tray, or extra, e.g. the "state" folder of $ZIPLINE_TRAY_HOME).
// Any other folder (a $ZIPLINE_TRAY_HOME the user chose) only loses
// config.json, and goes only if that leaves it empty.
func removeOwnDir(dir, extra string) error {
	if dir == "" {
		return nil
	}
	base := filepath.Base(dir)
	if base == auth.AppName || (extra != "" && base == extra) {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove %s: %w", dir, err)
		}
		return nil
	}
	f := filepath.Join(dir, "config.json")
	if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", f, err)
	}
	os.Remove(dir) // only if empty
	return nil
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
