//go:build !windows && !darwin

package uploader

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultFoldersLinux(t *testing.T) {
	for _, c := range []struct {
		name, dirs, env string
		want            string // relative to HOME unless absolute
		source          string
	}{
		{"no user-dirs", "", "", "Pictures/Screenshots", "~/Pictures/Screenshots, no XDG_PICTURES_DIR set"},
		{"english", `XDG_DESKTOP_DIR="$HOME/Desktop"` + "\n" + `XDG_PICTURES_DIR="$HOME/Pictures"` + "\n", "", "Pictures/Screenshots", "XDG_PICTURES_DIR/Screenshots from user-dirs.dirs"},
		{"localised", "# This file is written by xdg-user-dirs-update\n" +
			`XDG_DOWNLOAD_DIR="$HOME/Téléchargements"` + "\n" +
			`XDG_PICTURES_DIR="$HOME/Bilder"` + "\n", "", "Bilder/Screenshots", "XDG_PICTURES_DIR/Screenshots from user-dirs.dirs"},
		{"spaces and escapes", `XDG_PICTURES_DIR="$HOME/My \"Pics\""`, "", `My "Pics"/Screenshots`, "XDG_PICTURES_DIR/Screenshots from user-dirs.dirs"},
		{"braces", `XDG_PICTURES_DIR="${HOME}/Imágenes"`, "", "Imágenes/Screenshots", "XDG_PICTURES_DIR/Screenshots from user-dirs.dirs"},
		{"absolute", `XDG_PICTURES_DIR="/data/pics"`, "", "/data/pics/Screenshots", "XDG_PICTURES_DIR/Screenshots from user-dirs.dirs"},
		{"disabled ($HOME)", `XDG_PICTURES_DIR="$HOME/"`, "", "Pictures/Screenshots", "~/Pictures/Screenshots, no XDG_PICTURES_DIR set"},
		{"relative is invalid", `XDG_PICTURES_DIR="Pictures2"`, "", "Pictures/Screenshots", "~/Pictures/Screenshots, no XDG_PICTURES_DIR set"},
		{"environment", "", "/env/pics", "/env/pics/Screenshots", "XDG_PICTURES_DIR/Screenshots from the environment"},
		{"file wins over environment", `XDG_PICTURES_DIR="$HOME/Fotos"`, "/env/pics", "Fotos/Screenshots", "XDG_PICTURES_DIR/Screenshots from user-dirs.dirs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("XDG_CONFIG_HOME", "")
			t.Setenv("XDG_PICTURES_DIR", c.env)
			if c.dirs != "" {
				os.MkdirAll(filepath.Join(home, ".config"), 0o755)
				if err := os.WriteFile(filepath.Join(home, ".config", "user-dirs.dirs"), []byte(c.dirs), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := c.want
			if !filepath.IsAbs(want) {
				want = filepath.Join(home, want)
			}
			got := DefaultFolders()
			if len(got) != 1 || got[0].Path != want || got[0].Recursive {
				t.Fatalf("got %+v, want %s", got, want)
			}
			if got[0].Source != "GNOME / KDE Spectacle ("+c.source+")" {
				t.Errorf("source %q", got[0].Source)
			}
		})
	}
}

func TestDefaultFoldersXDGConfigHome(t *testing.T) {
	home, conf := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", conf)
	t.Setenv("XDG_PICTURES_DIR", "")
	os.WriteFile(filepath.Join(conf, "user-dirs.dirs"), []byte(`XDG_PICTURES_DIR="$HOME/Obrazy"`), 0o644)
	got := DefaultFolders()
	if len(got) != 1 || got[0].Path != filepath.Join(home, "Obrazy", "Screenshots") {
		t.Fatalf("got %+v", got)
	}
}
