package uploader

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ScanFolder lists the files in f that a watcher would report and that were
// modified after since (zero: all of them): regular, not Ignored, Included
// by include (nil: DefaultInclude), oldest first. A recursive folder is
// walked, skipping hidden subfolders. It is the catch-up for files that
// arrived while nothing watched.
//
// A missing folder gives an error wrapping fs.ErrNotExist. Unreadable
// subfolders are skipped and named in the error, and the files found
// elsewhere are still returned.
func ScanFolder(f WatchFolder, include []string, since time.Time) ([]Detected, error) {
	root, err := cleanFolderPath(f.Path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("scan %s: not a folder", root)
	}
	var out []Detected
	err = walkFolder(root, f.Recursive, nil, func(path string, fi fs.FileInfo) {
		if fi.ModTime().After(since) {
			out = append(out, Detected{Path: path, Folder: root, Size: fi.Size(), ModTime: fi.ModTime()})
		}
	}, include)
	sort.SliceStable(out, func(i, j int) bool { return out[i].ModTime.Before(out[j].ModTime) })
	return out, err
}

// walkFolder calls dir for each folder it is about to read (root first, then
// non-hidden subfolders when recursive) and file (if not nil) for each
// regular, non-ignored, included file. Calling dir before the folder is read lets the
// watcher Add it first, so nothing created in between is missed. Errors on
// subfolders are collected and the walk goes on.
func walkFolder(root string, recursive bool, dir func(path string) error, file func(path string, fi fs.FileInfo), include []string) error {
	var errs []error
	// A watched folder may be a symlink (~/Pictures on another disk):
	// WalkDir follows a root given with a trailing separator. (Its
	// subfolders may then also be watched by another path: see unwatch.)
	walkRoot := root
	if fi, err := os.Lstat(root); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		walkRoot = root + string(filepath.Separator)
	}
	err := filepath.WalkDir(walkRoot, func(path string, d fs.DirEntry, err error) error {
		if path == walkRoot {
			path = root
		}
		if err != nil {
			if path == root {
				return err
			}
			errs = append(errs, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path != root && (!recursive || Ignored(d.Name())) {
				return fs.SkipDir
			}
			if dir != nil {
				if err := dir(path); err != nil {
					if path == root {
						return err
					}
					errs = append(errs, err)
				}
			}
			return nil
		}
		if file == nil || !d.Type().IsRegular() || Ignored(d.Name()) || !Included(d.Name(), include) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return nil
		}
		file(path, fi)
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan %s: %w", root, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("scan %s: some subfolders were skipped: %w", root, errors.Join(errs...))
	}
	return nil
}
