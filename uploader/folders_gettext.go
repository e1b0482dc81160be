//go:build !windows && !darwin

package uploader

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
)

// localeDirs lists where message catalogues live (XDG_DATA_DIRS/locale).
// A variable so tests can point it at their own catalogues.
var localeDirs = func() []string {
	data := os.Getenv("XDG_DATA_DIRS")
	if data == "" {
		data = "/usr/local/share:/usr/share"
	}
	var out []string
	for _, d := range filepath.SplitList(data) {
		if filepath.IsAbs(d) {
			out = append(out, filepath.Join(d, "locale"))
		}
	}
	return out
}

// translate looks msgid up in domain's catalogue for the user's language,
// the way gettext picks it (LANGUAGE, then LC_ALL, LC_MESSAGES, LANG). GNOME
// Shell names its screenshot folder _("Screenshots"), so this is how to
// know it is "Bildschirmfotos" in German. ok is false without a translation.
func translate(domain, msgid string) (string, bool) {
	locale := firstEnv("LC_ALL", "LC_MESSAGES", "LANG")
	if locale == "" || locale == "C" || locale == "POSIX" || strings.HasPrefix(locale, "C.") {
		return "", false
	}
	langs := []string{locale}
	if l := os.Getenv("LANGUAGE"); l != "" {
		langs = append(strings.Split(l, ":"), locale)
	}
	for _, lang := range langs {
		for _, v := range localeVariants(lang) {
			for _, dir := range localeDirs() {
				if s, ok := moLookup(filepath.Join(dir, v, "LC_MESSAGES", domain+".mo"), msgid); ok {
					return s, true
				}
			}
		}
	}
	return "", false
}

func firstEnv(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// localeVariants turns "de_DE.UTF-8@euro" into de_DE@euro, de_DE, de@euro, de.
func localeVariants(l string) []string {
	l, mod, _ := strings.Cut(l, "@")
	l, _, _ = strings.Cut(l, ".")
	lang, _, hasTerr := strings.Cut(l, "_")
	if l == "" {
		return nil
	}
	var out []string
	add := func(s string) {
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	if mod != "" {
		add(l + "@" + mod)
	}
	add(l)
	if hasTerr {
		if mod != "" {
			add(lang + "@" + mod)
		}
		add(lang)
	}
	return out
}

// moLookup finds msgid in a GNU .mo file.
func moLookup(path, msgid string) (string, bool) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 20 {
		return "", false
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0x950412de:
		bo = binary.LittleEndian
	case 0xde120495:
		bo = binary.BigEndian
	default:
		return "", false
	}
	n, orig, trans := bo.Uint32(b[8:]), bo.Uint32(b[12:]), bo.Uint32(b[16:])
	str := func(table, i uint32) ([]byte, bool) {
		at := uint64(table) + 8*uint64(i)
		if at+8 > uint64(len(b)) {
			return nil, false
		}
		l, off := uint64(bo.Uint32(b[at:])), uint64(bo.Uint32(b[at+4:]))
		if off+l > uint64(len(b)) {
			return nil, false
		}
		return b[off : off+l], true
	}
	want := []byte(msgid)
	for i := uint32(0); i < n; i++ {
		k, ok := str(orig, i)
		if !ok {
			return "", false
		}
		if !bytes.Equal(k, want) {
			continue
		}
		v, ok := str(trans, i)
		if !ok || len(v) == 0 {
			return "", false
		}
		s, _, _ := strings.Cut(string(v), "\x00") // first plural form
		return s, s != ""
	}
	return "", false
}
