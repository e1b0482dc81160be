package zipline

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

var sizeUnits = map[string]float64{
	"":   1,
	"b":  1,
	"kb": 1 << 10,
	"mb": 1 << 20,
	"gb": 1 << 30,
	"tb": 1 << 40,
	"pb": 1 << 50,
}

// ParseSize parses a size in the npm "bytes" format the server uses for
// files.maxFileSize and chunks.* ("100mb", "1.5 GB", "4096"): base 1024,
// units b/kb/mb/gb/tb/pb, case-insensitive, optional space, a plain number
// is bytes. Anything else (e.g. "1GiB", which the server itself reads as 0)
// is an error, so the caller can fall back to a default.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := 0
	if i < len(t) && t[i] == '+' {
		i++
	}
	start := i
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num := t[start:i]
	unit := strings.TrimLeft(t[i:], " ")
	mult, ok := sizeUnits[unit]
	if num == "" || !ok || strings.Count(num, ".") > 1 || num[0] == '.' || num[len(num)-1] == '.' {
		return 0, fmt.Errorf("invalid size %q: want a number with an optional unit b, kb, mb, gb, tb or pb", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, err)
	}
	v := math.Floor(f * mult)
	if v >= math.MaxInt64 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return int64(v), nil
}

// mib formats n bytes as MiB for messages.
func mib(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}
