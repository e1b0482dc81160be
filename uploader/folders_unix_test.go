//go:build !windows && !darwin

package uploader

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noCatalogues keeps the machine's translations out of a test.
func noCatalogues(t *testing.T) {
	old := localeDirs
	localeDirs = func() []string { return nil }
	t.Cleanup(func() { localeDirs = old })
}

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
			noCatalogues(t)
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
	noCatalogues(t)
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

// writeMo writes a little-endian GNU .mo catalogue.
func writeMo(t *testing.T, path string, msgs map[string]string) {
	t.Helper()
	var ids, strs []string
	for k, v := range msgs {
		ids, strs = append(ids, k), append(strs, v)
	}
	n := uint32(len(ids))
	origAt, transAt := uint32(28), uint32(28+8*n)
	data := 28 + 16*n
	b := make([]byte, data)
	le := binary.LittleEndian
	le.PutUint32(b[0:], 0x950412de)
	le.PutUint32(b[8:], n)
	le.PutUint32(b[12:], origAt)
	le.PutUint32(b[16:], transAt)
	put := func(table, i uint32, s string) {
		le.PutUint32(b[table+8*i:], uint32(len(s)))
		le.PutUint32(b[table+8*i+4:], uint32(len(b)))
		b = append(b, s...)
		b = append(b, 0)
	}
	for i := range ids {
		put(origAt, uint32(i), ids[i])
		put(transAt, uint32(i), strs[i])
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultFoldersGnomeLocalised(t *testing.T) {
	loc := t.TempDir()
	writeMo(t, filepath.Join(loc, "de", "LC_MESSAGES", "gnome-shell.mo"), map[string]string{
		"Screenshot": "Bildschirmfoto", "Screenshots": "Bildschirmfotos",
	})
	old := localeDirs
	localeDirs = func() []string { return []string{filepath.Join(t.TempDir(), "none"), loc} }
	t.Cleanup(func() { localeDirs = old })
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_PICTURES_DIR", "")
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "de_DE.UTF-8")
	t.Setenv("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")
	os.MkdirAll(filepath.Join(home, ".config"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "user-dirs.dirs"), []byte(`XDG_PICTURES_DIR="$HOME/Bilder"`+"\n"), 0o644)
	local, english := filepath.Join(home, "Bilder", "Bildschirmfotos"), filepath.Join(home, "Bilder", "Screenshots")

	got := DefaultFolders()
	if len(got) != 1 || got[0].Path != local {
		t.Fatalf("GNOME, nothing exists yet: %+v, want %s", got, local)
	}
	t.Setenv("XDG_CURRENT_DESKTOP", "KDE")
	if got := DefaultFolders(); len(got) != 1 || got[0].Path != english {
		t.Fatalf("KDE, nothing exists yet: %+v, want %s", got, english)
	}
	os.MkdirAll(local, 0o755)
	if got := DefaultFolders(); len(got) != 1 || got[0].Path != local {
		t.Fatalf("KDE, only GNOME's exists: %+v", got)
	}
	os.MkdirAll(english, 0o755)
	if got := DefaultFolders(); len(got) != 2 || got[0].Path != english || got[1].Path != local {
		t.Fatalf("KDE, both exist: %+v", got)
	}
	t.Setenv("LANG", "C.UTF-8")
	if got := DefaultFolders(); len(got) != 1 || got[0].Path != english {
		t.Fatalf("C locale: %+v", got)
	}
	t.Setenv("LANG", "fr_FR.UTF-8")
	t.Setenv("LANGUAGE", "de:fr")
	if got := DefaultFolders(); len(got) != 2 {
		t.Fatalf("LANGUAGE list: %+v", got)
	}
}

func TestLocaleVariants(t *testing.T) {
	got := localeVariants("de_DE.UTF-8@euro")
	want := []string{"de_DE@euro", "de_DE", "de@euro", "de"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if got := localeVariants("pt"); len(got) != 1 || got[0] != "pt" {
		t.Fatalf("got %q", got)
	}
}

func TestMoLookupRejectsGarbage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.mo")
	os.WriteFile(p, []byte("not a catalogue at all, just text"), 0o644)
	if _, ok := moLookup(p, "Screenshots"); ok {
		t.Fatal("garbage parsed")
	}
	b := make([]byte, 28)
	binary.LittleEndian.PutUint32(b, 0x950412de)
	binary.LittleEndian.PutUint32(b[8:], 1000) // entries past the end
	binary.LittleEndian.PutUint32(b[12:], 28)
	os.WriteFile(p, b, 0o644)
	if _, ok := moLookup(p, "Screenshots"); ok {
		t.Fatal("truncated catalogue parsed")
	}
}

func TestDefaultFoldersScreenshotTools(t *testing.T) {
	for _, c := range []struct {
		name, file, content string
		mkdir               string // relative to HOME; "" makes nothing
		want                string // relative to HOME; "" means no extra entry
		source              string
	}{
		{"flameshot", "flameshot/flameshot.ini", "[General]\nsavePathFixed=true\nsavePath=/HOME/Shots\n", "Shots", "Shots",
			"Flameshot (savePath in ~/.config/flameshot/flameshot.ini, fixed with savePathFixed)"},
		{"flameshot last path", "flameshot/flameshot.ini", "[General]\nsavePath=\"/HOME/My Shots\"\nsavePathFixed=false\n", "My Shots", "My Shots",
			"Flameshot (savePath in ~/.config/flameshot/flameshot.ini)"},
		{"flameshot tilde", "flameshot/flameshot.ini", "[General]\nsavePath=~/Shots\n", "Shots", "Shots",
			"Flameshot (savePath in ~/.config/flameshot/flameshot.ini)"},
		{"flameshot folder missing", "flameshot/flameshot.ini", "[General]\nsavePath=/HOME/Gone\n", "", "", ""},
		{"flameshot other group", "flameshot/flameshot.ini", "[Shortcuts]\nsavePath=/HOME/Shots\n", "Shots", "", ""},
		{"flameshot relative", "flameshot/flameshot.ini", "[General]\nsavePath=Shots\n", "Shots", "", ""},
		{"spectacle plasma 6", "spectaclerc", "[General]\nlaunchAction=UseLastUsedCapturemode\n\n[ImageSave]\nimageSaveLocation=file:///HOME/Bilder/Spectacle/\n", "Bilder/Spectacle", "Bilder/Spectacle",
			"KDE Spectacle (imageSaveLocation in ~/.config/spectaclerc)"},
		{"spectacle old", "spectaclerc", "[General]\ndefaultSaveLocation=file:///HOME/Snaps\n", "Snaps", "Snaps",
			"KDE Spectacle (defaultSaveLocation in ~/.config/spectaclerc)"},
		{"spectacle escaped url", "spectaclerc", "[ImageSave]\nimageSaveLocation[$e]=file:///HOME/My%20Snaps\n", "My Snaps", "My Snaps",
			"KDE Spectacle (imageSaveLocation in ~/.config/spectaclerc)"},
		{"spectacle new wins", "spectaclerc", "[General]\ndefaultSaveLocation=file:///HOME/Old\n[ImageSave]\nimageSaveLocation=file:///HOME/New\n", "New", "New",
			"KDE Spectacle (imageSaveLocation in ~/.config/spectaclerc)"},
		{"spectacle remote", "spectaclerc", "[ImageSave]\nimageSaveLocation=smb://nas/HOME/Snaps\n", "Snaps", "", ""},
		{"same as the suggestion", "spectaclerc", "[ImageSave]\nimageSaveLocation=file:///HOME/Pictures/Screenshots/\n", "Pictures/Screenshots", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			noCatalogues(t)
			home := t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("XDG_CONFIG_HOME", "")
			t.Setenv("XDG_PICTURES_DIR", "")
			p := filepath.Join(home, ".config", c.file)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(strings.ReplaceAll(c.content, "/HOME", home)), 0o644); err != nil {
				t.Fatal(err)
			}
			if c.mkdir != "" {
				os.MkdirAll(filepath.Join(home, c.mkdir), 0o755)
			}
			got := DefaultFolders()
			if len(got) == 0 || got[0].Path != filepath.Join(home, "Pictures", "Screenshots") {
				t.Fatalf("the suggestion changed: %+v", got)
			}
			if c.want == "" {
				if len(got) != 1 {
					t.Fatalf("got %+v, want only the suggestion", got)
				}
				return
			}
			if len(got) != 2 || got[1].Path != filepath.Join(home, c.want) || got[1].Source != c.source {
				t.Fatalf("got %+v, want %s from %q", got, c.want, c.source)
			}
		})
	}
}

func TestDefaultFoldersToolsUnderXDGConfigHome(t *testing.T) {
	noCatalogues(t)
	home, conf := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", conf)
	t.Setenv("XDG_PICTURES_DIR", "")
	shots, snaps := filepath.Join(home, "Shots"), filepath.Join(home, "Snaps")
	os.MkdirAll(shots, 0o755)
	os.MkdirAll(snaps, 0o755)
	os.MkdirAll(filepath.Join(conf, "flameshot"), 0o755)
	os.WriteFile(filepath.Join(conf, "flameshot", "flameshot.ini"), []byte("[General]\nsavePath="+shots+"\n"), 0o644)
	os.WriteFile(filepath.Join(conf, "spectaclerc"), []byte("[ImageSave]\nimageSaveLocation=file://"+snaps+"\n"), 0o644)
	// Where ~/.config would be: must be ignored.
	os.MkdirAll(filepath.Join(home, ".config"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "spectaclerc"), []byte("[ImageSave]\nimageSaveLocation=file://"+home+"\n"), 0o644)
	got := DefaultFolders()
	if len(got) != 3 || got[1].Path != shots || got[2].Path != snaps {
		t.Fatalf("got %+v", got)
	}
	if want := "Flameshot (savePath in " + filepath.Join(conf, "flameshot", "flameshot.ini") + ")"; got[1].Source != want {
		t.Errorf("source %q, want %q", got[1].Source, want)
	}
}
