package uploader

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWatcherIdle reports the CPU the whole test process uses per
// second while a watcher sits on a recursive folder of 20 subfolders and
// 2000 files, with nothing happening: it should be ~0 (no polling).
//
//	go test -tags migrated_fynedo -run '^$' -bench WatcherIdle -benchtime 1x ./uploader/
func BenchmarkWatcherIdle(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < 20; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("sub%02d", i))
		if err := os.Mkdir(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 100; j++ {
			wtWrite(b, filepath.Join(sub, fmt.Sprintf("f%03d.png", j)), 100)
		}
	}
	w, err := NewWatcher(WatcherConfig{Folders: []WatchFolder{{Path: dir, Recursive: true}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func(Detected) {}) }()
	wtWait(b, 5*time.Second, "watcher to start", func() bool {
		st := w.Status()
		return len(st) == 1 && st[0].State == FolderWatching
	})
	const idle = 3 * time.Second
	var cpu time.Duration
	for b.Loop() {
		before := cpuTime(b)
		time.Sleep(idle) // measuring idleness: nothing to wait for
		cpu += cpuTime(b) - before
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/(float64(b.N)*idle.Seconds()), "cpu-ms/s")
	b.ReportMetric(0, "ns/op")
}

func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
