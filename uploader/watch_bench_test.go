package uploader

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkWatcherLatency measures the time from a file's Close to its
// ready callback, over 200 files, with the default gate (the floor is
// Debounce+Settle after the last event). "steady" writes one file every
// 20 ms, "burst" writes all 200 back to back.
//
//	go test -tags migrated_fynedo -run '^$' -bench WatcherLatency -benchtime 1x ./uploader/
func BenchmarkWatcherLatency(b *testing.B) {
	for _, m := range []struct {
		name string
		gap  time.Duration
	}{{"steady", 20 * time.Millisecond}, {"burst", 0}} {
		b.Run(m.name, func(b *testing.B) {
			var all []time.Duration
			for b.Loop() {
				all = append(all, watchLatency(b, 200, m.gap)...)
			}
			slices.Sort(all)
			pct := func(p float64) float64 {
				return float64(all[int(p*float64(len(all)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(pct(1), "max-ms")
			b.ReportMetric(float64(DefaultDebounce+DefaultSettle)/float64(time.Millisecond), "gate-min-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// watchLatency writes n files into a watched folder, gap apart, and returns
// for each the time from its Close to its report.
func watchLatency(tb testing.TB, n int, gap time.Duration) []time.Duration {
	dir := tb.TempDir()
	w, err := NewWatcher(WatcherConfig{Folders: []WatchFolder{{Path: dir}}})
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	closed := map[string]time.Time{}
	lat := map[string]time.Duration{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, func(d Detected) {
			now := time.Now()
			mu.Lock()
			if _, ok := lat[d.Path]; !ok {
				lat[d.Path] = now.Sub(closed[d.Path])
			}
			mu.Unlock()
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	}()
	wtWait(tb, 5*time.Second, "watcher to start", func() bool {
		st := w.Status()
		return len(st) == 1 && st[0].State == FolderWatching
	})
	buf := make([]byte, 256<<10) // a typical screenshot
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("lat-%03d.png", i))
		f, err := os.Create(p)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := f.Write(buf); err != nil {
			tb.Fatal(err)
		}
		// Record before Close: the watcher may report the instant it closes.
		mu.Lock()
		closed[p] = time.Now()
		mu.Unlock()
		if err := f.Close(); err != nil {
			tb.Fatal(err)
		}
		if gap > 0 {
			time.Sleep(gap) // the writer's pace, not a wait for the watcher
		}
	}
	wtWait(tb, 30*time.Second, "all files reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(lat) == n
	})
	out := make([]time.Duration, 0, n)
	for _, d := range lat {
		out = append(out, d)
	}
	return out
}
