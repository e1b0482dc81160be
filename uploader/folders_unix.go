//go:build !windows && !darwin

package uploader

import (
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
	conf := os.Getenv("XDG_CONFIG_HOME")
	if conf == "" || !filepath.IsAbs(conf) {
		conf = filepath.Join(home, ".config")
	}
	if d, ok := xdgUserDir(filepath.Join(conf, "user-dirs.dirs"), home, "XDG_PICTURES_DIR"); ok {
		return d, "XDG_PICTURES_DIR/Screenshots from user-dirs.dirs"
	}
	if d := os.Getenv("XDG_PICTURES_DIR"); filepath.IsAbs(d) {
		return filepath.Clean(d), "XDG_PICTURES_DIR/Screenshots from the environment"
	}
	return filepath.Join(home, "Pictures"), "~/Pictures/Screenshots, no XDG_PICTURES_DIR set"
}
