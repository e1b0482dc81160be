package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zipline-tray/zipline-tray/zipline"
)

func sxcu(server, token string, extra string) []byte {
	return []byte(fmt.Sprintf(`{
  "Version": "17.0.0",
  "Name": "Zipline - %[1]s - File",
  "DestinationType": "ImageUploader, TextUploader, FileUploader",
  "RequestMethod": "POST",
  "RequestURL": "%[1]s/api/upload",
  "Headers": {
    "authorization": "%[2]s"%[3]s
  },
  "URL": "{json:files[0].url}",
  "Body": "MultipartFormData",
  "FileFormName": "file"
}`, server, token, extra))
}

func TestParseUploaderConfig(t *testing.T) {
	data := sxcu("https://Zipline.example.com", "MTcw.abc", `,
    "x-zipline-format": "UUID",
    "x-zipline-deletes-at": "1d",
    "x-zipline-image-compression-percent": "80",
    "x-zipline-max-views": "5",
    "x-zipline-original-name": "true",
    "x-zipline-domain": "i.example.com",
    "x-zipline-no-json": "true",
    "x-zipline-password": "file-pw",
    "CF-Access-Client-Id": "cf-id"`)
	c, err := ParseUploaderConfig(append([]byte("\xef\xbb\xbf"), data...))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server != "https://zipline.example.com" || c.Token != "MTcw.abc" || c.Shortener {
		t.Fatalf("parsed %v", c)
	}
	u := c.Upload
	if u.Format != "uuid" || u.DeletesAt != "1d" || u.CompressionPercent == nil || *u.CompressionPercent != 80 ||
		u.MaxViews != 5 || !u.OriginalName || u.Domain != "i.example.com" {
		t.Fatalf("upload options %+v", u)
	}
	if c.Headers["CF-Access-Client-Id"] != "cf-id" || len(c.Headers) != 1 {
		t.Fatalf("headers %v", c.Headers)
	}
	if len(c.Ignored) != 1 || c.Ignored[0] != "x-zipline-password" {
		t.Fatalf("ignored %v", c.Ignored)
	}
	if strings.Contains(fmt.Sprint(c), "MTcw.abc") {
		t.Fatal("String shows the token")
	}

	cfg := Defaults()
	cfg.Upload.Folder = "keep-me"
	c.Apply(cfg)
	if cfg.Upload.Format != "uuid" || cfg.Upload.MaxViews != 5 || cfg.Upload.Folder != "keep-me" || cfg.Headers["CF-Access-Client-Id"] != "cf-id" {
		t.Fatalf("applied %+v %v", cfg.Upload, cfg.Headers)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseUploaderConfigOtherFormats(t *testing.T) {
	iscu := `{"name":"Zipline","requesturl":"https://z.example/zip/api/upload","headers":{"authorization":"tok1","x-zipline-format":"date"},"fileformname":"file","responseurl":"{{files[0].url}}"}`
	c, err := ParseUploaderConfig([]byte(iscu))
	if err != nil || c.Server != "https://z.example/zip" || c.Token != "tok1" || c.Upload.Format != "date" {
		t.Fatalf("iscu: %v %v", c, err)
	}
	itup := `{"name":"Zipline","request":{"url":"http://127.0.0.1:3000/api/upload","method":"POST","headers":{"authorization":"tok2"}},"body":{"type":"multipart","fileField":"file"},"response":{"linkPath":"files.0.url"}}`
	c, err = ParseUploaderConfig([]byte(itup))
	if err != nil || c.Server != "http://127.0.0.1:3000" || c.Token != "tok2" {
		t.Fatalf("itup: %v %v", c, err)
	}
	url := `{"Version":"17.0.0","RequestMethod":"POST","RequestURL":"https://z.example/api/user/urls","Headers":{"authorization":"tok3"},"Body":"JSON","Data":"{\"destination\":\"{input}\"}","URL":"{json:url}"}`
	c, err = ParseUploaderConfig([]byte(url))
	if err != nil || !c.Shortener || c.Token != "tok3" {
		t.Fatalf("url mode: %v %v", c, err)
	}
}

func TestParseUploaderConfigRejects(t *testing.T) {
	v3 := `{"Version":"14.1.0","RequestURL":"https://z.example/api/upload","Headers":{"Authorization":"v3tok","Format":"random"},"URL":"{json:files[0]}"}`
	cases := map[string]struct {
		data string
		is   error
		want string
	}{
		"v3":       {v3, zipline.ErrV3, "Zipline v3"},
		"v3 url":   {`{"RequestURL":"https://z.example/api/shorten","Headers":{"Authorization":"x"}}`, zipline.ErrV3, "v3"},
		"not json": {"<html>", ErrNotUploaderConfig, "not JSON"},
		"no url":   {`{"Headers":{"authorization":"x"}}`, ErrNotUploaderConfig, "no request URL"},
		"not api":  {`{"RequestURL":"https://imgur.com/upload","Headers":{"authorization":"x"}}`, ErrNotUploaderConfig, "not a Zipline API"},
		"no token": {string(sxcu("https://z.example", "", "")), ErrNotUploaderConfig, "no token"},
		"bearer":   {string(sxcu("https://z.example", "Bearer abc", "")), ErrBearerPrefix, "Bearer"},
	}
	for name, c := range cases {
		_, err := ParseUploaderConfig([]byte(c.data))
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && (strings.Contains(err.Error(), "v3tok") || err.Error() != Explain(err)) {
			t.Errorf("%s: not plain or shows the token: %v", name, err)
		}
	}
}

func TestSignInUploaderConfig(t *testing.T) {
	srv := fakeServer(t, noLoginLimit())
	tok := srv.User("alice").Token()
	ctx := testCtx(t)
	res, uc, err := SignInUploaderConfig(ctx, sxcu(srv.URL, tok, `, "x-zipline-format": "gfycat"`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Username != "alice" || res.Token != tok || res.Server != srv.URL || uc.Upload.Format != "gfycat" {
		t.Fatalf("result %v, config %v", res, uc)
	}
	srv.ResetToken("alice")
	_, _, err = SignInUploaderConfig(ctx, sxcu(srv.URL, tok, ""), nil)
	if !errors.Is(err, ErrTokenRejected) {
		t.Fatalf("stale .sxcu: %v", err)
	}
	assertPlain(t, err, tok)
}
