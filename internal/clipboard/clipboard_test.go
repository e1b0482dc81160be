package clipboard

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	all := map[string]bool{"wl-copy": true, "xclip": true, "xsel": true, "pbcopy": true, "clip.exe": true}
	look := func(have map[string]bool) func(string) (string, error) {
		return func(n string) (string, error) {
			if have[n] {
				return "/usr/bin/" + n, nil
			}
			return "", exec.ErrNotFound
		}
	}
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name    string
		goos    string
		env     func(string) string
		have    map[string]bool
		want    string
		wantErr string
	}{
		{"wayland", "linux", env("WAYLAND_DISPLAY", "wayland-0", "DISPLAY", ":0"), all, "wl-copy", ""},
		{"xwayland fallback", "linux", env("WAYLAND_DISPLAY", "wayland-0", "DISPLAY", ":0"), map[string]bool{"xclip": true}, "xclip", ""},
		{"x11 xclip", "linux", env("DISPLAY", ":0"), all, "xclip", ""},
		{"x11 xsel", "linux", env("DISPLAY", ":0"), map[string]bool{"xsel": true}, "xsel", ""},
		{"wsl", "linux", env(), map[string]bool{"clip.exe": true}, "clip.exe", ""},
		{"macos", "darwin", env(), all, "pbcopy", ""},
		{"windows", "windows", env(), all, "clip.exe", ""},
		{"wayland none", "linux", env("WAYLAND_DISPLAY", "w"), nil, "", "wl-clipboard"},
		{"x11 none", "linux", env("DISPLAY", ":0"), nil, "", "xclip or xsel"},
		{"headless", "linux", env(), map[string]bool{"xclip": true, "wl-copy": true}, "", "no graphical session"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tool, err := Find(tc.goos, tc.env, look(tc.have))
			if tc.wantErr != "" {
				if !errors.Is(err, ErrNoTool) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrNoTool mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || tool.Path != "/usr/bin/"+tc.want {
				t.Fatalf("Find = %+v, %v; want %s", tool, err, tc.want)
			}
		})
	}
}
