package autostart

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

func TestDesktopExecQuoting(t *testing.T) {
	for exe, want := range map[string]string{
		"/usr/bin/zipline-tray":             "/usr/bin/zipline-tray",
		"/home/al ice/bin/zipline-tray":     `"/home/al ice/bin/zipline-tray"`,
		`/opt/a"b/zt`:                       `"/opt/a\\"b/zt"`,
		`/opt/$HOME/zt`:                     `"/opt/\\$HOME/zt"`,
		`/opt/back\slash/zt`:                `"/opt/back\\\\slash/zt"`,
		"/opt/100%/zt":                      "/opt/100%%/zt",
		"/opt/it's/zt":                      `"/opt/it's/zt"`,
		"/home/x/Applications/Zip (1)/tray": `"/home/x/Applications/Zip (1)/tray"`,
	} {
		if got := desktopExec(exe); got != want {
			t.Errorf("desktopExec(%q) = %s, want %s", exe, got, want)
		}
	}
}

// unquoteExec undoes desktopExec the way a launcher reads Exec: string
// unescaping, %% → %, then argument unquoting. It returns the arguments.
func unquoteExec(v string) []string {
	v = strings.NewReplacer(`\\`, `\`, `\s`, " ").Replace(v)
	v = strings.ReplaceAll(v, "%%", "%")
	var args []string
	var cur strings.Builder
	inQ, have := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inQ && c == '\\' && i+1 < len(v):
			i++
			cur.WriteByte(v[i])
		case c == '"':
			inQ, have = !inQ, true
		case c == ' ' && !inQ:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

func TestDesktopExecRoundTrip(t *testing.T) {
	for _, exe := range []string{"/a b/c", `/x"y/z`, `/p\q`, "/r$s`t", "/100% sure/x", "/tab\tpath"} {
		got := unquoteExec(desktopExec(exe))
		if len(got) != 1 || got[0] != exe {
			t.Errorf("%q → %s → %q", exe, desktopExec(exe), got)
		}
	}
}

func TestDesktopEntry(t *testing.T) {
	e := DesktopEntry("/home/a b/.local/bin/zipline-tray")
	for _, line := range []string{"[Desktop Entry]", "Type=Application", `Exec="/home/a b/.local/bin/zipline-tray"`, "Name=Zipline Tray", "Terminal=false"} {
		if !strings.Contains(e, line+"\n") {
			t.Errorf("entry lacks %q:\n%s", line, e)
		}
	}
	if !strings.HasPrefix(e, "[Desktop Entry]\n") {
		t.Error("the group header must come first")
	}
}

func TestLaunchAgentPlist(t *testing.T) {
	exe := "/Applications/Zip & Tray.app/Contents/MacOS/zipline-tray"
	p := LaunchAgentPlist(exe)
	// Well-formed XML whose ProgramArguments hold exe exactly.
	var doc struct {
		Dict struct {
			Keys    []string `xml:"key"`
			Strings []string `xml:"string"`
			Array   struct {
				Strings []string `xml:"string"`
			} `xml:"array"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal([]byte(p), &doc); err != nil {
		t.Fatalf("plist is not XML: %v\n%s", err, p)
	}
	if got := doc.Dict.Array.Strings; len(got) != 1 || got[0] != exe {
		t.Errorf("ProgramArguments = %q", got)
	}
	want := []string{"Label", "ProgramArguments", "RunAtLoad", "ProcessType", "LimitLoadToSessionType"}
	if strings.Join(doc.Dict.Keys, ",") != strings.Join(want, ",") {
		t.Errorf("keys = %q", doc.Dict.Keys)
	}
	if len(doc.Dict.Strings) == 0 || doc.Dict.Strings[0] != Label {
		t.Errorf("label = %q", doc.Dict.Strings)
	}
	if !strings.Contains(p, "<key>RunAtLoad</key>\n\t<true/>") {
		t.Error("RunAtLoad is not true")
	}
}

func TestRunValue(t *testing.T) {
	if got := RunValue(`C:\Program Files\zipline-tray\zipline-tray.exe`); got != `"C:\Program Files\zipline-tray\zipline-tray.exe"` {
		t.Errorf("RunValue = %s", got)
	}
}

func TestBadPath(t *testing.T) {
	for _, exe := range []string{"", "zipline-tray", "/a\nb"} {
		if err := Enable(exe); !errors.Is(err, ErrBadPath) {
			t.Errorf("Enable(%q) = %v", exe, err)
		}
	}
}
