package ziplinetest

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// uploadOpts are the parsed x-zipline-* headers (§3.2).
type uploadOpts struct {
	format        string
	deletesAt     *time.Time
	never         bool
	compPercent   *float64
	compType      string
	password      string
	maxViews      int
	originalName  bool
	noJSON        bool
	folder        string
	filename      string // override base name
	ext           string // override extension, with the dot
	domains       []string
	extensionless bool
	raw           http.Header // every x-zipline-* header as received
}

func (s *Server) badOption(header, reason string) *apiErr {
	return zerr(1001, "bad options["+header+"]: "+reason).old("bad options: [" + header + "]: " + reason)
}

// parseOptions validates the option headers like parseHeaders.
func (s *Server) parseOptions(h http.Header) (*uploadOpts, *apiErr) {
	o := &uploadOpts{format: s.cfg.DefaultFormat, raw: http.Header{}}
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-zipline-") {
			o.raw[k] = append([]string(nil), v...)
		}
	}
	get := func(name string) (string, bool) {
		v, ok := h[http.CanonicalHeaderKey(name)]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	if v, ok := get("x-zipline-format"); ok {
		switch strings.ToLower(v) {
		case "random", "uuid", "date", "name", "random-words":
			o.format = strings.ToLower(v)
		case "gfycat":
			o.format = "random-words"
		default:
			return nil, s.badOption("x-zipline-format", "Invalid format")
		}
	}
	if v, ok := get("x-zipline-deletes-at"); ok {
		if e := s.parseExpiry(o, strings.ToLower(strings.TrimSpace(v))); e != nil {
			return nil, e
		}
	}
	if v, ok := get("x-zipline-image-compression-percent"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 100 {
			return nil, s.badOption("x-zipline-image-compression-percent", "Invalid percent (must be between 0 and 100)")
		}
		o.compPercent = &f
	}
	if v, ok := get("x-zipline-image-compression-type"); ok && s.ver.atLeast(4, 3, 0) {
		switch strings.ToLower(v) {
		case "jpg", "jpeg", "png", "webp", "jxl":
			o.compType = strings.ToLower(v)
		default:
			return nil, s.badOption("x-zipline-image-compression-type", "Invalid compression type")
		}
	}
	if v, ok := get("x-zipline-password"); ok {
		o.password = v
	}
	if v, ok := get("x-zipline-max-views"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, s.badOption("x-zipline-max-views", "Invalid max views")
		}
		o.maxViews = int(f)
	}
	if v, _ := get("x-zipline-original-name"); v == "true" {
		o.originalName = true
	}
	if v, _ := get("x-zipline-no-json"); v == "true" {
		o.noJSON = true
	}
	if v, ok := get("x-zipline-folder"); ok {
		o.folder = v
	}
	if v, ok := get("x-zipline-filename"); ok {
		name := v
		if s.ver.atLeast(4, 8, 0) {
			dec, err := url.PathUnescape(v)
			if err != nil || !utf8.ValidString(dec) {
				return nil, s.badOption("x-zipline-filename", "Invalid URL-encoded filename")
			}
			name = dec
			if badName(name) {
				return nil, s.badOption("x-zipline-filename", "Invalid filename")
			}
		} else if badName(name) {
			return nil, zerr(1007, "").old("Invalid characters in filename")
		}
		o.filename = name
	}
	if v, ok := get("x-zipline-file-extension"); ok {
		ext := strings.TrimSpace(v)
		if ext == "" || strings.ContainsAny(ext, `/\`) || strings.Contains(ext, "..") {
			return nil, s.badOption("x-zipline-file-extension", "Invalid file extension")
		}
		if !strings.HasPrefix(ext, ".") {
			ext = "." + ext
		}
		o.ext = ext
	}
	if v, ok := get("x-zipline-domain"); ok {
		for _, d := range strings.Split(v, ",") {
			d = strings.TrimSpace(d)
			if d == "" || strings.ContainsAny(d, "/ \t?#@") {
				return nil, s.badOption("x-zipline-domain", "Invalid domain")
			}
			if _, err := url.Parse("http://" + d); err != nil {
				return nil, s.badOption("x-zipline-domain", "Invalid domain")
			}
			o.domains = append(o.domains, d)
		}
	}
	if v, _ := get("x-zipline-extensionless"); v == "true" && s.ver.atLeast(4, 7, 0) {
		o.extensionless = true
	}
	return o, nil
}

func badName(n string) bool {
	return n == "" || strings.ContainsAny(n, `/\`) || strings.Contains(n, "..")
}

func (s *Server) parseExpiry(o *uploadOpts, v string) *apiErr {
	invalid := s.badOption("x-zipline-deletes-at", "Invalid expiry date")
	var maxExp time.Duration
	if s.cfg.MaxExpiration != "" && s.ver.atLeast(4, 4, 1) {
		maxExp, _ = parseDuration(strings.TrimSpace(s.cfg.MaxExpiration))
	}
	if v == "never" {
		if !s.ver.atLeast(4, 4, 1) {
			return invalid
		}
		if maxExp > 0 && s.ver.atLeast(4, 8, 0) {
			return s.badOption("x-zipline-deletes-at", "Expiry exceeds maximum allowed expiration of "+s.cfg.MaxExpiration)
		}
		o.never = true
		return nil
	}
	now := time.Now()
	var at time.Time
	if strings.HasPrefix(v, "date=") {
		t, ok := parseJSDate(strings.TrimPrefix(v, "date="))
		if !ok {
			return invalid
		}
		at = t
	} else {
		d, ok := parseDuration(v)
		if !ok || d <= 0 {
			return invalid
		}
		at = now.Add(d)
	}
	if !at.After(now) {
		return invalid
	}
	if maxExp > 0 && at.Sub(now) > maxExp {
		return s.badOption("x-zipline-deletes-at", "Expiry exceeds maximum allowed expiration of "+s.cfg.MaxExpiration)
	}
	o.deletesAt = &at
	return nil
}

// parseJSDate accepts the forms JavaScript's Date parses reliably.
func parseJSDate(v string) (time.Time, bool) {
	v = strings.ToUpper(strings.TrimSpace(v))
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(n), true
	}
	return time.Time{}, false
}

var doubleExts = []string{".tar.gz", ".tar.xz", ".tar.bz2", ".zip.gz", ".log.gz", ".csv.gz", ".pdf.gz"}

// splitExt splits a filename into base and extension, knowing the double
// extensions the server knows.
func splitExt(name string) (base, ext string) {
	lower := strings.ToLower(name)
	for _, d := range doubleExts {
		if strings.HasSuffix(lower, d) && len(name) > len(d) {
			return name[:len(name)-len(d)], name[len(name)-len(d):]
		}
	}
	ext = path.Ext(name)
	if ext == name {
		ext = "" // ".bashrc": path.extname gives ""
	}
	return name[:len(name)-len(ext)], ext
}

// decodeFilename is decodeURIComponent on a multipart filename.
func decodeFilename(n string) (string, bool) {
	dec, err := url.PathUnescape(n)
	if err != nil || !utf8.ValidString(dec) {
		return "", false
	}
	return dec, true
}

var (
	wordsAdj    = []string{"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively", "nice", "proud", "silly", "witty", "zany"}
	wordsAnimal = []string{"otter", "panda", "koala", "lynx", "heron", "gecko", "bison", "llama", "marten", "okapi", "quokka", "tapir"}
)

// makeName picks the stored name for one file; reserved holds the names
// given to earlier files of the same request. Called with s.mu held.
func (s *Server) makeName(o *uploadOpts, index int, filename string, now time.Time, reserved map[string]bool) (string, *apiErr) {
	base, ext := splitExt(filename)
	if o.ext != "" {
		ext = o.ext
	}
	clash := func(n string) bool { return reserved[n] || s.fileByName(n) != nil }
	clashErr := func() *apiErr {
		return zerr(1009, fmt.Sprintf("file[%d]: file with the same name already exists", index))
	}
	if o.filename != "" {
		n := o.filename + ext
		if clash(n) {
			return "", clashErr()
		}
		return n, nil
	}
	switch o.format {
	case "name":
		n := base + ext
		if clash(n) {
			return "", clashErr()
		}
		return n, nil
	case "date":
		stamp := now.Format("2006-01-02_15:04:05")
		n := stamp + ext
		for i := 1; clash(n); i++ {
			n = fmt.Sprintf("%s-%d%s", stamp, i, ext)
		}
		return n, nil
	case "uuid":
		b := randBytes(16)
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x%s", b[0:4], b[4:6], b[6:8], b[8:10], b[10:], ext), nil
	case "random-words":
		for {
			pick := func(l []string) string { return l[int(randBytes(1)[0])%len(l)] }
			n := pick(wordsAdj) + "-" + pick(wordsAdj) + "-" + pick(wordsAnimal) + ext
			if !clash(n) {
				return n, nil
			}
		}
	default:
		for {
			n := randString(6, alnum) + ext
			if !clash(n) {
				return n, nil
			}
		}
	}
}
