//go:build windows

package uploader

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// defaultFolders: the Screenshots known folder (Win+PrtScn, Snipping Tool;
// may be redirected to OneDrive), and ShareX's folder when it exists
// (monthly subfolders, so recursive).
func defaultFolders() []DefaultFolder {
	var out []DefaultFolder
	if p, err := windows.KnownFolderPath(windows.FOLDERID_Screenshots, 0); err == nil && p != "" {
		out = append(out, DefaultFolder{Path: p, Source: "Windows Screenshots folder (FOLDERID_Screenshots)"})
	} else if pics, err := windows.KnownFolderPath(windows.FOLDERID_Pictures, 0); err == nil && pics != "" {
		out = append(out, DefaultFolder{Path: filepath.Join(pics, "Screenshots"), Source: "Windows Pictures\\Screenshots (FOLDERID_Pictures)"})
	}
	if docs, err := windows.KnownFolderPath(windows.FOLDERID_Documents, 0); err == nil && docs != "" {
		sx := filepath.Join(docs, "ShareX", "Screenshots")
		if fi, err := os.Stat(sx); err == nil && fi.IsDir() {
			out = append(out, DefaultFolder{Path: sx, Recursive: true, Source: "ShareX (Documents\\ShareX\\Screenshots)"})
		}
	}
	return out
}
