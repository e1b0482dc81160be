package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// AppName names the folders and the keyring service.
const AppName = "zipline-tray"

// HomeEnv, when set, puts the settings file and all state in one folder.
const HomeEnv = "ZIPLINE_TRAY_HOME"

// Paths are the folders zipline-tray writes to.
type Paths struct {
	// ConfigDir holds config.json.
	ConfigDir string
	// StateDir holds the upload queue, history and logs.
	StateDir string
}

// DefaultPaths returns the folders for this user and creates them (0700).
//
//   - $ZIPLINE_TRAY_HOME: config.json there, state in its state/ folder.
//   - settings: os.UserConfigDir()/zipline-tray.
//   - state on Linux and BSD: $XDG_STATE_HOME/zipline-tray, else
//     ~/.local/state/zipline-tray; on Windows %LocalAppData%\zipline-tray
//     (machine-local, not roaming); on macOS
//     ~/Library/Application Support/zipline-tray/state.
func DefaultPaths() (Paths, error) {
	p, err := defaultPaths()
	if err != nil {
		return Paths{}, err
	}
	return p, p.Ensure()
}

func defaultPaths() (Paths, error) {
	if home := os.Getenv(HomeEnv); home != "" {
		abs, err := filepath.Abs(home)
		if err != nil {
			return Paths{}, fmt.Errorf("%s=%q: %w", HomeEnv, home, err)
		}
		return Paths{ConfigDir: abs, StateDir: filepath.Join(abs, "state")}, nil
	}
	cfgRoot, err := os.UserConfigDir()
	if err != nil {
		return Paths{}, fmt.Errorf("find the settings folder (set %s to choose one): %w", HomeEnv, err)
	}
	p := Paths{ConfigDir: filepath.Join(cfgRoot, AppName)}
	switch runtime.GOOS {
	case "windows":
		local := os.Getenv("LocalAppData")
		if local == "" {
			local, err = os.UserCacheDir() // %LocalAppData% too
			if err != nil {
				return Paths{}, fmt.Errorf("find the state folder (set %s to choose one): %w", HomeEnv, err)
			}
		}
		p.StateDir = filepath.Join(local, AppName)
		if p.StateDir == p.ConfigDir {
			p.StateDir = filepath.Join(p.ConfigDir, "state")
		}
	case "darwin", "ios", "plan9", "js", "wasip1":
		p.StateDir = filepath.Join(p.ConfigDir, "state")
	default:
		if s := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(s) {
			p.StateDir = filepath.Join(s, AppName)
			break
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return Paths{}, fmt.Errorf("find the state folder (set %s to choose one): %w", HomeEnv, err)
		}
		p.StateDir = filepath.Join(home, ".local", "state", AppName)
	}
	return p, nil
}

// Ensure creates both folders with mode 0700 if they are missing.
func (p Paths) Ensure() error {
	if p.ConfigDir == "" || p.StateDir == "" {
		return errors.New("auth: empty Paths")
	}
	for _, d := range []string{p.ConfigDir, p.StateDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}

// ConfigFile is the settings file, config.json.
func (p Paths) ConfigFile() string { return filepath.Join(p.ConfigDir, "config.json") }

// StateFile is a file named name in the state folder (queue.db, history.db...).
func (p Paths) StateFile(name string) string { return filepath.Join(p.StateDir, name) }

// LogDir is the folder for log files.
func (p Paths) LogDir() string { return filepath.Join(p.StateDir, "logs") }
