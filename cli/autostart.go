package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/internal/autostart"
)

var autostartCmd = Command{
	Name:    "autostart",
	Summary: "start the desktop app when you log in (on, off, status)",
	Usage: `Usage: zipline-tray autostart on|off|status [--exe PATH]

on      start the zipline-tray desktop app at every login
off     stop starting it at login
status  say whether it starts at login, and how

The login entry is, per system: ~/.config/autostart/zipline-tray.desktop
(Linux and other XDG desktops), ~/Library/LaunchAgents/io.github.zipline_tray.plist
(macOS), or the "zipline-tray" value of HKCU\Software\Microsoft\Windows\
CurrentVersion\Run (Windows). It runs this program unless --exe names
another one. The "autostart" setting in config.json records the choice.

Exit status: 0 done, 1 the entry could not be written or removed, 2 usage error.`,
}

func init() {
	autostartCmd.Run = runAutostart
	register(autostartCmd)
}

func runAutostart(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(autostartCmd.Name)
	exe := fs.String("exe", "", "start this `PATH` at login instead of this program (e.g. where a package installed it)")
	pos, code, done := parseFlags(env, fs, autostartCmd, args)
	if done {
		return code
	}
	if len(pos) != 1 {
		return usageError(env, autostartCmd, "say on, off or status")
	}
	where, err := autostart.Path()
	if err != nil {
		env.errorf("zipline-tray autostart: %v\n", err)
		return ExitFailure
	}
	switch pos[0] {
	case "status":
		on, err := autostart.Enabled()
		if err != nil {
			env.errorf("zipline-tray autostart: %v\n", err)
			return ExitFailure
		}
		if on {
			fmt.Fprintf(env.Stdout, "zipline-tray starts at login (%s).\n", where)
		} else {
			fmt.Fprintln(env.Stdout, "zipline-tray does not start at login. Turn it on with: zipline-tray autostart on")
		}
		return ExitOK
	case "on":
		path := *exe
		if path == "" {
			if !guiBuild {
				return usageError(env, autostartCmd, "this is the command-line-only build, which has no desktop app to start; pass --exe with the path of the desktop build")
			}
			if path, err = autostart.Executable(); err != nil {
				env.errorf("zipline-tray autostart: %v\n", err)
				return ExitFailure
			}
		} else if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		if err := autostart.Enable(path); err != nil {
			env.errorf("zipline-tray autostart: %v\n", err)
			return ExitFailure
		}
		if !env.saveAutostart(true) {
			return ExitFailure
		}
		fmt.Fprintf(env.Stdout, "zipline-tray will start at login: %s runs %s.\n", where, path)
		return ExitOK
	case "off":
		if err := autostart.Disable(); err != nil {
			env.errorf("zipline-tray autostart: %v\n", err)
			return ExitFailure
		}
		if !env.saveAutostart(false) {
			return ExitFailure
		}
		fmt.Fprintln(env.Stdout, "zipline-tray will no longer start at login.")
		return ExitOK
	}
	return usageError(env, autostartCmd, "unknown action %q: say on, off or status", pos[0])
}

// saveAutostart records the choice in config.json, so the app's settings
// window shows it.
func (env *Env) saveAutostart(on bool) bool {
	cfg, err := env.config()
	if err == nil {
		var p auth.Paths
		if p, err = env.paths(); err == nil {
			cfg.Autostart = on
			err = cfg.Save(p.ConfigFile())
		}
	}
	if err != nil {
		env.errorf("zipline-tray autostart: the login entry is changed, but the setting could not be saved: %v\n", err)
		return false
	}
	return true
}
