package uploader

import (
	"fmt"
	"html"
	"net/url"
	"path"
	"strings"
)

// Link formats for the clipboard.
const (
	LinkURL      = "url"      // the page URL the server returned
	LinkRaw      = "raw"      // <server>/raw/<name>: the bytes themselves
	LinkMarkdown = "markdown" // ![name](url), url being the page URL
	LinkHTML     = "html"     // <img src="url" alt="name">
)

// Clipboard receives the link of each finished upload. The GUI passes
// Fyne's clipboard, the CLI the platform tool (wl-copy, xclip, pbcopy, clip).
type Clipboard interface {
	SetText(string) error
}

// RawURL turns a page URL such as https://host/u/aB3.png into the raw URL
// https://host/raw/aB3.png. name is the stored name when known.
func RawURL(pageURL, name string) string {
	u, err := url.Parse(pageURL)
	if err != nil || u.Host == "" {
		return pageURL
	}
	if name == "" {
		name, _ = url.PathUnescape(path.Base(u.Path))
	}
	if name == "" || name == "/" || name == "." {
		return pageURL
	}
	u.Path = "/raw/" + name
	u.RawPath = ""
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// FormatLink renders the link to copy. name is the file's display name
// (the local file name), used as alt text.
func FormatLink(format, pageURL, rawURL, name string) (string, error) {
	switch strings.ToLower(format) {
	case "", LinkURL, "page":
		return pageURL, nil
	case LinkRaw, "direct":
		return rawURL, nil
	case LinkMarkdown, "md":
		alt := strings.NewReplacer("[", "\\[", "]", "\\]").Replace(name)
		return fmt.Sprintf("![%s](%s)", alt, pageURL), nil
	case LinkHTML:
		return fmt.Sprintf(`<img src="%s" alt="%s">`, html.EscapeString(pageURL), html.EscapeString(name)), nil
	}
	return "", fmt.Errorf("unknown link format %q (use url, raw, markdown or html)", format)
}
