package uploader

import "testing"

func TestIgnored(t *testing.T) {
	for _, c := range []struct {
		name string
		want bool
	}{
		{"Screenshot From 2025-12-23 12-22-06.png", false},
		{"Bildschirmfoto vom 2025-12-23.png", false},
		{"スクリーンショット 2025-12-23.png", false},
		{"/home/a/Pictures/Screenshots/shot.png", false},
		{"archive.tar.gz", false},
		{".Screenshot 2025-12-23 at 12.22.06.png", true}, // macOS temp
		{".hyprshot.png", true},
		{".syncthing.shot.png.tmp", true},
		{".~lock.doc#", true},
		{"~$report.docx", true},
		{"shot.png.tmp", true},
		{"shot.png.TMP", true},
		{"clip.mp4.part", true},
		{"clip.mp4.crdownload", true},
		{"page.png.download", true},
		{".shot.png.swp", true},
		{"shot.png.swp", true},
		{"shot.png~", true},
		{"/home/a/.hidden.png", true},
		{"", true},
		{".", true},
	} {
		if got := Ignored(c.name); got != c.want {
			t.Errorf("Ignored(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestIncluded(t *testing.T) {
	for _, c := range []struct {
		name    string
		include []string
		want    bool
	}{
		{"a.png", nil, true},
		{"a.PNG", nil, true},
		{"a.JpEg", nil, true},
		{"a.mkv", nil, true},
		{"a.HEIC", nil, true},
		{"a.txt", nil, false},
		{"png", nil, false}, // no extension
		{"a.png.zip", nil, false},
		{"/x/y.webm", nil, true},
		{"a.txt", []string{}, true}, // empty: every file
		{"noext", []string{}, true},
		{"a.txt", []string{"*"}, true},
		{"a.png", []string{"jpg"}, false},
		{"a.JPG", []string{"jpg"}, true},
		{"a.jpg", []string{"JPG"}, true},
		{"a.jpg", []string{".jpg"}, true},
		{"a.jpg", []string{" jpg "}, true},
		{"Screenshot.png", []string{"Screenshot"}, false}, // never a name match
	} {
		if got := Included(c.name, c.include); got != c.want {
			t.Errorf("Included(%q, %q) = %v, want %v", c.name, c.include, got, c.want)
		}
	}
}

func TestNormalizeInclude(t *testing.T) {
	if normalizeInclude(nil) != nil {
		t.Error("nil must stay nil (DefaultInclude)")
	}
	got := normalizeInclude([]string{".PNG", " Jpg", ""})
	if len(got) != 2 || got[0] != "png" || got[1] != "jpg" {
		t.Errorf("got %q", got)
	}
	if got := normalizeInclude([]string{}); got == nil || len(got) != 0 {
		t.Errorf("empty must stay empty, not nil: %#v", got)
	}
}
