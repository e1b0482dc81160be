package cli

import (
	"context"
	"fmt"

	"github.com/zipline-tray/zipline-tray/auth"
)

var logoutCmd = Command{
	Name:    "logout",
	Summary: "remove the saved token from the keyring",
	Usage: `Usage: zipline-tray logout

Removes the saved API token of the signed-in account from the system
keyring and forgets the account in the settings (the server address and
upload settings stay). The token itself stays valid on the server: to
make every copy of it stop working, reset it in the Zipline dashboard.

Exit status: 0 signed out (or was not signed in), 1 the keyring failed.`,
}

func init() {
	logoutCmd.Run = runLogout
	register(logoutCmd)
}

func runLogout(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(logoutCmd.Name)
	pos, code, done := parseFlags(env, fs, logoutCmd, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(env, logoutCmd, "unexpected argument %q", pos[0])
	}
	cfg, err := env.config()
	if err != nil {
		env.errorf("zipline-tray: %v\n", err)
		return ExitFailure
	}
	if cfg.Server == "" || cfg.Username == "" {
		fmt.Fprintln(env.Stdout, "Not signed in.")
		env.noteEnvToken()
		return ExitOK
	}
	server, user := cfg.Server, cfg.Username
	p, err := env.paths()
	if err == nil {
		err = auth.SignOut(cfg, p.ConfigFile(), env.store())
	}
	if err != nil {
		env.errorf("zipline-tray logout: %s\n", explain(err))
		return ExitFailure
	}
	fmt.Fprintf(env.Stdout, "Signed out of %s (%s); the token was removed from the keyring.\n", server, user)
	env.noteEnvToken()
	return ExitOK
}

func (env *Env) noteEnvToken() {
	if env.Getenv(auth.TokenEnv) != "" {
		env.errorf("Note: %s is still set in your environment; unset it too.\n", auth.TokenEnv)
	}
}
