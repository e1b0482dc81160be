//go:build !windows && !darwin

package uploader

import (
	"bufio"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// defaultFolders: GNOME 42+ and KDE Spectacle (Plasma 6) save to
// Pictures/Screenshots, with Pictures taken from user-dirs.dirs (localised,
// e.g. ~/Bilder). GNOME Shell also translates "Screenshots"
// (~/Bilder/Bildschirmfotos); Spectacle does not. The one that exists wins;
// if both or neither do, GNOME's on a GNOME desktop. The other is listed
// as an alternative when it exists.
func defaultFolders() []DefaultFolder {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return nil
	}
	return withToolFolders(desktopFolders(home), home)
}

// withToolFolders appends the folders Flameshot and Spectacle are set to
// save in, when they exist and are not listed yet.
func withToolFolders(list []DefaultFolder, home string) []DefaultFolder {
	conf := configHome(home)
	for _, f := range []DefaultFolder{flameshotFolder(conf, home), spectacleFolder(conf, home)} {
		if f.Path == "" || !isDir(f.Path) {
			continue
		}
		dup := false
		for _, have := range list {
			dup = dup || have.Path == f.Path
		}
		if !dup {
			list = append(list, f)
		}
	}
	return list
}

func desktopFolders(home string) []DefaultFolder {
	pics, src := linuxPicturesDir(home)
	english := DefaultFolder{Path: filepath.Join(pics, "Screenshots"), Source: "GNOME / KDE Spectacle (" + src + ")"}
	name, ok := translate("gnome-shell", "Screenshots")
	if !ok || name == "Screenshots" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return []DefaultFolder{english}
	}
	local := DefaultFolder{
		Path:   filepath.Join(pics, name),
		Source: "GNOME (" + strings.Replace(src, "/Screenshots", "/"+name, 1) + `, GNOME Shell's translation of "Screenshots")`,
	}
	english.Source = "KDE Spectacle (" + src + ")"
	localOK, englishOK := isDir(local.Path), isDir(english.Path)
	gnome := strings.Contains(strings.ToUpper(os.Getenv("XDG_CURRENT_DESKTOP")), "GNOME")
	first, second, secondOK := english, local, localOK
	if (localOK && !englishOK) || (localOK == englishOK && gnome) {
		first, second, secondOK = local, english, englishOK
	}
	if secondOK {
		return []DefaultFolder{first, second}
	}
	return []DefaultFolder{first}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// linuxPicturesDir finds the Pictures folder the way xdg-user-dir does.
func linuxPicturesDir(home string) (dir, source string) {
	conf := configHome(home)
	if d, ok := xdgUserDir(filepath.Join(conf, "user-dirs.dirs"), home, "XDG_PICTURES_DIR"); ok {
		return d, "XDG_PICTURES_DIR/Screenshots from user-dirs.dirs"
	}
	if d := os.Getenv("XDG_PICTURES_DIR"); filepath.IsAbs(d) {
		return filepath.Clean(d), "XDG_PICTURES_DIR/Screenshots from the environment"
	}
	return filepath.Join(home, "Pictures"), "~/Pictures/Screenshots, no XDG_PICTURES_DIR set"
}

func configHome(home string) string {
	conf := os.Getenv("XDG_CONFIG_HOME")
	if conf == "" || !filepath.IsAbs(conf) {
		conf = filepath.Join(home, ".config")
	}
	return conf
}

// tildeConf names a file under the config folder for the user, as ~/….
func tildeConf(conf, home, name string) string {
	p := filepath.Join(conf, name)
	if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") {
		return "~/" + filepath.ToSlash(rel)
	}
	return p
}

// flameshotFolder reads savePath from Flameshot's QSettings file: the
// folder it last saved to, or the fixed one when savePathFixed=true.
func flameshotFolder(conf, home string) DefaultFolder {
	const name = "flameshot/flameshot.ini"
	ini := readINI(filepath.Join(conf, name))
	v := ini["General"]["savePath"]
	if v == "" {
		return DefaultFolder{}
	}
	p, ok := localPath(v, home)
	if !ok {
		return DefaultFolder{}
	}
	src := "Flameshot (savePath in " + tildeConf(conf, home, name)
	if strings.EqualFold(ini["General"]["savePathFixed"], "true") {
		src += ", fixed with savePathFixed"
	}
	return DefaultFolder{Path: p, Source: src + ")"}
}

// spectacleFolder reads Spectacle's save location, a file:// URL: Plasma 6
// and late Plasma 5 keep it as [ImageSave] imageSaveLocation, older
// versions as [General] defaultSaveLocation.
func spectacleFolder(conf, home string) DefaultFolder {
	const name = "spectaclerc"
	ini := readINI(filepath.Join(conf, name))
	for _, k := range [][2]string{
		{"ImageSave", "imageSaveLocation"}, {"General", "imageSaveLocation"},
		{"General", "defaultSaveLocation"}, {"ImageSave", "defaultSaveLocation"},
	} {
		v := ini[k[0]][k[1]]
		if v == "" {
			continue
		}
		if p, ok := localPath(v, home); ok {
			return DefaultFolder{Path: p, Source: "KDE Spectacle (" + k[1] + " in " + tildeConf(conf, home, name) + ")"}
		}
	}
	return DefaultFolder{}
}

// localPath turns a file:// URL, ~/…, $HOME/… or absolute path into a clean
// absolute path; other URLs (smb://, remote hosts) are not local folders.
func localPath(v, home string) (string, bool) {
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") {
			return "", false
		}
		v = u.Path
	}
	switch {
	case v == "~" || v == "$HOME":
		v = home
	case strings.HasPrefix(v, "~/"):
		v = filepath.Join(home, v[2:])
	case strings.HasPrefix(v, "$HOME/"):
		v = filepath.Join(home, v[6:])
	}
	if !filepath.IsAbs(v) {
		return "", false
	}
	return filepath.Clean(v), true
}

// readINI reads a QSettings / KConfig style file into group -> key -> value.
// Keys lose KConfig's [$e]-style flags; quoted values lose their quotes.
func readINI(path string) map[string]map[string]string {
	out := map[string]map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	group := "General"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && line[len(line)-1] == ']' {
			group = line[1 : len(line)-1]
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if i := strings.IndexByte(k, '['); i > 0 {
			k = k[:i]
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if out[group] == nil {
			out[group] = map[string]string{}
		}
		out[group][k] = v
	}
	return out
}
