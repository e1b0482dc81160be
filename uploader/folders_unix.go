//go:build !windows && !darwin

package uploader

import (
	"os"
	"path/filepath"
)

// defaultFolders: GNOME 42+ and KDE Spectacle (Plasma 6) save to
// Pictures/Screenshots, with Pictures taken from user-dirs.dirs (localised,
// e.g. ~/Bilder).
func defaultFolders() []DefaultFolder {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return nil
	}
	pics, src := linuxPicturesDir(home)
	return []DefaultFolder{{
		Path:   filepath.Join(pics, "Screenshots"),
		Source: "GNOME / KDE Spectacle (" + src + ")",
	}}
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
