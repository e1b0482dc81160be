package auth

import (
	"strings"
	"testing"
	"unicode"
)

// A normalised address normalises to itself, so keyring keys are stable.
func FuzzNormalizeServer(f *testing.F) {
	for _, s := range []string{"zipline.example.com", "HTTPS://Z.example:443/", "http://[::1]:3000/x/", "https://a/dashboard", "http://h:80/api/user", "h/%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeServer(in)
		if err != nil {
			return
		}
		again, err := NormalizeServer(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeServer(%q) = %q, then %q, %v", in, out, again, err)
		}
		if strings.ContainsAny(out, "#?") || strings.HasSuffix(out, "/") {
			t.Fatalf("NormalizeServer(%q) = %q", in, out)
		}
	})
}

func FuzzParseUploaderConfig(f *testing.F) {
	f.Add(string(sxcu("https://z.example", "tok", `, "x-zipline-max-views": "3"`)))
	f.Add(`{"request":{"url":"http://127.0.0.1:3000/api/upload","headers":{"authorization":"t"}}}`)
	f.Add(`{"requesturl":"https://z.example/api/upload","headers":{"authorization":" Bearer x"}}`)
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseUploaderConfig([]byte(in))
		if err != nil {
			if err.Error() == "" || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if c.Token == "" || strings.IndexFunc(c.Token, unicode.IsSpace) >= 0 {
			t.Fatalf("token %q", c.Token)
		}
		if n, err := NormalizeServer(c.Server); err != nil || n != c.Server {
			t.Fatalf("server %q not normalised", c.Server)
		}
		cfg := Defaults()
		c.Apply(cfg)
		if err := cfg.Validate(); err != nil && !strings.Contains(err.Error(), "header") {
			t.Fatalf("applied config invalid: %v", err)
		}
	})
}
