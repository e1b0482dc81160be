package ziplinetest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// version is a parsed Zipline release.
type version struct{ major, minor, patch int }

// parseVersion reads "4.6", "4.7.0", "v4.8.1". A missing patch number means
// the release the shared transcripts were taken from for 4.6 (4.6.3) and
// .0 for every other minor version.
func parseVersion(s string) (version, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if s == "" {
		s = "4.6"
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return version{}, fmt.Errorf("ziplinetest: bad version %q (want e.g. 4.6 or 4.7.0)", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return version{}, fmt.Errorf("ziplinetest: bad version %q", s)
		}
		n[i] = v
	}
	if len(parts) == 2 && n[0] == 4 && n[1] == 6 {
		n[2] = 3
	}
	if n[0] != 4 {
		return version{}, fmt.Errorf("ziplinetest: only Zipline 4.x is faked, not %q", s)
	}
	return version{n[0], n[1], n[2]}, nil
}

func (v version) atLeast(major, minor, patch int) bool {
	if v.major != major {
		return v.major > major
	}
	if v.minor != minor {
		return v.minor > minor
	}
	return v.patch >= patch
}

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch) }

// ParseSize parses a size string the way the server's `bytes` npm package
// does (base 1024; b, kb, mb, gb, tb, pb; case-insensitive; a bare number is
// bytes). ok is false where bytes() returns null.
func ParseSize(s string) (n int64, ok bool) { return parseSize(s) }

func parseSize(s string) (n int64, ok bool) {
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		// bytes() falls back to parseInt(val, 10).
		digits := leadingInt.FindString(strings.TrimSpace(s))
		if digits == "" {
			return 0, false
		}
		v, err := strconv.ParseInt(digits, 10, 64)
		return v, err == nil
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]float64{"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}[strings.ToLower(m[2])]
	return int64(math.Floor(f * mult)), true
}

var (
	sizeRe     = regexp.MustCompile(`^([-+]?\d+(?:\.\d+)?) *([kmgtp]?b)$`)
	leadingInt = regexp.MustCompile(`^[-+]?\d+`)
)

// formatSize writes n as an admin would type it: "100mb", "25mb", or plain
// bytes when no unit divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		s string
		v int64
	}{{"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}} {
		if n >= u.v && n%u.v == 0 {
			return strconv.FormatInt(n/u.v, 10) + u.s
		}
	}
	return strconv.FormatInt(n, 10)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randString(n int, alphabet string) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

// newID returns a cuid-looking id ("cm" + 23 base-36 characters).
func newID() string { return "cm" + randString(23, "abcdefghijklmnopqrstuvwxyz0123456789") }

// isoTime formats t like JavaScript's Date.toISOString.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// marshal encodes like JSON.stringify: no HTML escaping, no trailing newline.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("ziplinetest: encode %T: %v", v, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeRaw(w, status, "application/json; charset=utf-8", marshal(v))
}

// encodeURI escapes like JavaScript's encodeURI.
func encodeURI(s string) string {
	const keep = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789;,/?:@&=+$-_.!~*'()#"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// formatMs formats a duration the way @lukeed/ms format(ms, true) does,
// which is what @fastify/rate-limit puts in its 429 message.
func formatMs(ms int64) string {
	const (
		sec  = 1000
		min  = 60 * sec
		hour = 60 * min
		day  = 24 * hour
	)
	f := func(v float64, unit string) string {
		n := int64(v + 0.5)
		if n != 1 {
			unit += "s"
		}
		return fmt.Sprintf("%d %s", n, unit)
	}
	switch {
	case ms < sec:
		return fmt.Sprintf("%d ms", ms)
	case ms < min:
		return f(float64(ms)/sec, "second")
	case ms < hour:
		return f(float64(ms)/min, "minute")
	case ms < day:
		return f(float64(ms)/hour, "hour")
	default:
		return f(float64(ms)/day, "day")
	}
}

// parseDuration parses the duration grammar of the `ms` npm package used by
// x-zipline-deletes-at: "30m", "2h", "1.5h", "10 days"; a bare number is
// milliseconds.
func parseDuration(s string) (time.Duration, bool) {
	m := durRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	unit := strings.ToLower(m[2])
	var mult float64
	switch unit {
	case "years", "year", "yrs", "yr", "y":
		mult = 365.25 * 24 * 3600e3
	case "weeks", "week", "w":
		mult = 7 * 24 * 3600e3
	case "days", "day", "d":
		mult = 24 * 3600e3
	case "hours", "hour", "hrs", "hr", "h":
		mult = 3600e3
	case "minutes", "minute", "mins", "min", "m":
		mult = 60e3
	case "seconds", "second", "secs", "sec", "s":
		mult = 1e3
	case "milliseconds", "millisecond", "msecs", "msec", "ms", "":
		mult = 1
	default:
		return 0, false
	}
	return time.Duration(f * mult * float64(time.Millisecond)), true
}

var durRe = regexp.MustCompile(`(?i)^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$`)
