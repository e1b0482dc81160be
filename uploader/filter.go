package uploader

import (
	"path/filepath"
	"strings"
)

// DefaultInclude are the extensions a watcher reports when its Include is
// nil: images and screen recordings. Lower case, without the dot.
var DefaultInclude = []string{
	"png", "jpg", "jpeg", "gif", "webp", "avif", "heic", "heif", "bmp", "tif", "tiff", "jxl",
	"mp4", "webm", "mkv", "mov", "m4v", "avi",
}

// tempSuffixes end the names of files that are still being written by
// browsers, editors and sync tools; the final name arrives by rename.
var tempSuffixes = []string{
	".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".opdownload",
	".swp", ".swo", ".swx", ".kate-swp", "~",
}

// Ignored reports whether a file name (a base name or a path) must never be
// reported: hidden names (dot-files, which covers .syncthing.* and macOS's
// temporary screenshots), Office lock files (~$*), and temporary download or
// editor files (.tmp, .part, .crdownload, .download, .swp, ...).
func Ignored(name string) bool {
	name = filepath.Base(name)
	if name == "" || name == "." || name == ".." || name == string(filepath.Separator) {
		return true
	}
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$") {
		return true
	}
	lower := strings.ToLower(name)
	for _, s := range tempSuffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	return false
}

// Included reports whether name's extension is in include, compared without
// regard to case. A nil include means DefaultInclude; an empty, non-nil one
// (or one holding "*") means every extension. Entries may carry a leading dot.
// Only the extension counts: screenshot names are localised, so no name
// pattern is ever matched.
func Included(name string, include []string) bool {
	if include == nil {
		include = DefaultInclude
	}
	if len(include) == 0 {
		return true
	}
	ext := strings.TrimPrefix(filepath.Ext(filepath.Base(name)), ".")
	for _, e := range include {
		e = strings.TrimPrefix(strings.TrimSpace(e), ".")
		if e == "*" {
			return true
		}
		if ext != "" && strings.EqualFold(e, ext) {
			return true
		}
	}
	return false
}

// normalizeInclude lower-cases include and strips dots and blanks, keeping
// the nil / empty distinction Included relies on.
func normalizeInclude(include []string) []string {
	if include == nil {
		return nil
	}
	out := make([]string, 0, len(include))
	for _, e := range include {
		e = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(e), "."))
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}
