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

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// signalClipboard reports each link with the time it was set.
type signalClipboard struct {
	ch chan clipSet
}

type clipSet struct {
	text string
	at   time.Time
}

func (c *signalClipboard) SetText(s string) error {
	c.ch <- clipSet{s, time.Now()}
	return nil
}

// BenchmarkLatency: from a file's close to its link on the clipboard, one
// file at a time, 200 files, through the real watcher. Most of it is the
// watcher's wait for the file to settle (its debounce and stability check).
func BenchmarkLatency(b *testing.B) {
	for b.Loop() {
		f := newFixture(b, ziplinetest.RoleAdmin)
		clip := &signalClipboard{ch: make(chan clipSet, 1)}
		cfg := f.config()
		cfg.Clipboard = clip
		e := f.open(b, cfg)
		r := recordEvents(b, e)
		watching(b, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}})
		const n = 200
		lat := make([]time.Duration, 0, n)
		for i := range n {
			p, _ := f.write(b, fmt.Sprintf("l%03d.png", i), 50_000)
			closed := time.Now() // os.WriteFile has closed the file
			var set clipSet
			select {
			case set = <-clip.ch:
			case <-time.After(30 * time.Second):
				b.Fatalf("no link for %s", p)
			}
			lat = append(lat, set.at.Sub(closed))
		}
		_ = r
		slices.Sort(lat)
		b.ReportMetric(float64(lat[n/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lat[n*95/100].Milliseconds()), "p95-ms")
		b.ReportMetric(float64(lat[0].Milliseconds()), "min-ms")
	}
}

// BenchmarkBurst500 compares 500 small files through the watcher and the
// queue with the same 500 files uploaded straight with the client at the
// same concurrency. ratio = watcher time / direct time (target ≤ 1.2).
// watched-s runs from the first file written to the last link announced, so
// it includes the watcher's settle time; queued-s hands the 500 files to the
// queue in one batch (as the watcher and `add` do) without the watcher:
// queue-ratio is the durable queue's own overhead. commits is how many
// transactions recorded the 500 links in the watched run, ms/commit how
// long each took (mostly bbolt's two fdatasyncs).
//
// On loopback an upload takes about a millisecond, so the queue's disk
// syncs (each group of finished uploads is committed, two fdatasyncs, before
// its links are announced) dominate; the rtt-20ms variant delays every
// upload answer by 20 ms, like a real network.
func BenchmarkBurst500(b *testing.B) {
	for _, delay := range []time.Duration{0, 20 * time.Millisecond} {
		name := "loopback"
		if delay > 0 {
			name = "rtt-" + delay.String()
		}
		b.Run(name, func(b *testing.B) { benchBurst(b, delay) })
	}
}

func benchBurst(b *testing.B, delay time.Duration) {
	const n, conc = 500, 2
	for b.Loop() {
		// Direct: the client alone.
		f := newFixture(b, ziplinetest.RoleAdmin)
		f.srv.SetDelay("/api/upload", delay)
		var paths []string
		for i := range n {
			p, _ := f.write(b, fmt.Sprintf("d%03d.png", i), 2000+i)
			paths = append(paths, p)
		}
		c, err := f.creds.Client(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		work := make(chan string)
		var wg sync.WaitGroup
		for range conc {
			wg.Go(func() {
				for p := range work {
					up, err := zipline.FileUpload(p)
					if err == nil {
						_, err = c.Upload(context.Background(), up, zipline.UploadOptions{}, nil)
					}
					if err != nil {
						b.Error(err)
					}
				}
			})
		}
		for _, p := range paths {
			work <- p
		}
		close(work)
		wg.Wait()
		direct := time.Since(start)

		// Through the watcher and the durable queue.
		g := newFixture(b, ziplinetest.RoleAdmin)
		g.srv.SetDelay("/api/upload", delay)
		e := g.open(b, g.config())
		events, unsubscribe := e.Subscribe()
		stopWatching := watching(b, e, AutoConfig{Folders: []WatchFolder{{Path: g.dir}}})
		start = time.Now()
		for i := range n {
			g.write(b, fmt.Sprintf("w%03d.png", i), 2000+i)
		}
		timeout := time.After(5 * time.Minute)
		for got := 0; got < n; {
			select {
			case ev := <-events:
				if ev.Type == EventUploaded {
					got++
				}
			case <-timeout:
				b.Fatalf("%d of %d uploaded", got, n)
			}
		}
		watched := time.Since(start)
		unsubscribe()
		e.commit.mu.Lock()
		commits, busy := e.commit.commits, e.commit.busy
		e.commit.mu.Unlock()

		// The queue alone: the same burst handed over in one batch.
		q := newFixture(b, ziplinetest.RoleAdmin)
		q.srv.SetDelay("/api/upload", delay)
		var reqs []addReq
		for i := range n {
			p, _ := q.write(b, fmt.Sprintf("q%03d.png", i), 2000+i)
			reqs = append(reqs, addReq{p, AddOptions{Source: SourceWatch}})
		}
		qe := q.open(b, q.config())
		qevents, qunsubscribe := qe.Subscribe()
		start = time.Now()
		for i, r := range qe.addMany(reqs) {
			if r.err != nil || !r.added {
				b.Fatalf("queue %s: added %v, %v", reqs[i].path, r.added, r.err)
			}
		}
		for got := 0; got < n; {
			select {
			case ev := <-qevents:
				if ev.Type == EventUploaded {
					got++
				}
			case <-timeout:
				b.Fatalf("%d of %d uploaded from the queue", got, n)
			}
		}
		queued := time.Since(start)
		qunsubscribe()
		qe.Close()
		stopWatching()
		e.Close()

		b.ReportMetric(direct.Seconds(), "direct-s")
		b.ReportMetric(watched.Seconds(), "watched-s")
		b.ReportMetric(watched.Seconds()/direct.Seconds(), "ratio")
		b.ReportMetric(queued.Seconds(), "queued-s")
		b.ReportMetric(queued.Seconds()/direct.Seconds(), "queue-ratio")
		b.ReportMetric(float64(commits), "commits")
		b.ReportMetric(busy.Seconds()*1000/float64(max(commits, 1)), "ms/commit")
		os.RemoveAll(filepath.Dir(f.dir))
		os.RemoveAll(filepath.Dir(g.dir))
		os.RemoveAll(filepath.Dir(q.dir))
	}
}
