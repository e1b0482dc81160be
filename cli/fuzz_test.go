package cli

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseExpiry: whatever the user types, --expires either fails or
// yields a value the server accepts: "never", a duration with a unit, or
// date= with a future UTC time.
func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"", "never", "1d", "10 days", "1.5h", "2026-12-31", "2026-12-31T18:00:00Z", "date=2027-01-01", "5", "-1d", "1e9d"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		out, err := parseExpiry(in, now)
		if err != nil || out == "" || out == "never" || durationRE.MatchString(out) {
			return
		}
		d, ok := strings.CutPrefix(out, "date=")
		if !ok {
			t.Fatalf("parseExpiry(%q) = %q: not never, a duration or a date", in, out)
		}
		at, perr := time.Parse("2006-01-02T15:04:05.000Z", d)
		if perr != nil || !at.After(now) {
			t.Fatalf("parseExpiry(%q) = %q: bad or past date (%v)", in, out, perr)
		}
	})
}

// FuzzBarLine: the progress line never wraps the terminal.
func FuzzBarLine(f *testing.F) {
	f.Add(int64(5<<20), int64(10<<20), 1e6, "movie.mkv", 80)
	f.Add(int64(0), int64(0), 0.0, "", 1)
	f.Add(int64(1), int64(3), 0.0, strings.Repeat("名", 50), 40)
	f.Fuzz(func(t *testing.T, sent, total int64, rate float64, name string, cols int) {
		if sent < 0 || total < 0 || sent > total || total > 1<<50 || rate < 0 || rate > 1<<40 || cols < 40 || cols > 500 || !utf8.ValidString(name) {
			return
		}
		if strings.ContainsAny(name, "\r\n\t\x1b") {
			return
		}
		l := barLine(sent, total, rate, name, cols)
		if n := utf8.RuneCountInString(l); n > cols-1 {
			t.Fatalf("barLine(%d, %d, %g, %q, %d) is %d columns: %q", sent, total, rate, name, cols, n, l)
		}
	})
}
