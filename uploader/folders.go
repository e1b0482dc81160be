package uploader

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// DefaultFolder is a folder where the system's screenshot tool saves.
type DefaultFolder struct {
	Path      string
	Recursive bool
	Source    string // where the path came from, to show the user
}

// DefaultFolders returns the screenshot folders of this system, the
// suggested default first. Later entries are alternatives that exist on this
// machine (such as ShareX's folder on Windows), to offer rather than to
// watch unasked. The folders need not exist yet: a watcher waits for them.
func DefaultFolders() []DefaultFolder { return defaultFolders() }

// xdgUserDir reads key (such as "XDG_PICTURES_DIR") from the user-dirs.dirs
// file at path, in the form xdg-user-dirs writes: KEY="$HOME/Name" or
// KEY="/absolute/path". ok is false when the file or key is missing, the
// value is relative, or it is $HOME itself (which means "disabled").
func xdgUserDir(path, home, key string) (dir string, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, found := strings.Cut(line, "=")
		if !found || strings.TrimSpace(k) != key {
			continue
		}
		dir, ok = parseUserDirValue(strings.TrimSpace(v), home)
	}
	return dir, ok
}

// parseUserDirValue decodes one value: optional double quotes, backslash
// escapes, and a leading $HOME or ${HOME}.
func parseUserDirValue(v, home string) (string, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	var b strings.Builder
	rel := false
	switch {
	case strings.HasPrefix(v, "$HOME"):
		v, rel = v[len("$HOME"):], true
	case strings.HasPrefix(v, "${HOME}"):
		v, rel = v[len("${HOME}"):], true
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	s := b.String()
	if rel {
		if s != "" && !strings.HasPrefix(s, "/") {
			return "", false // "$HOMEfoo" is not a path under home
		}
		s = filepath.Join(home, s)
	}
	if !filepath.IsAbs(s) {
		return "", false
	}
	s = filepath.Clean(s)
	if s == filepath.Clean(home) {
		return "", false
	}
	return s, true
}
