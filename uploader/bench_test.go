package uploader

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
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
// file at a time, 200 files, through the real watcher. A file written in
// place (Flameshot, ShareX) waits the watcher's gate: its debounce and
// stability check, 200 ms. A file renamed in when complete (GNOME, macOS,
// Spectacle: written under a temporary name) waits movedInQuiet; for it the
// clock starts at the rename.
func BenchmarkLatency(b *testing.B) {
	for _, v := range []struct {
		name    string
		renamed bool
	}{{"in-place", false}, {"renamed-in", true}} {
		b.Run(v.name, func(b *testing.B) { benchLatency(b, v.renamed) })
	}
}

func benchLatency(b *testing.B, renamed bool) {
	for b.Loop() {
		f := newFixture(b, ziplinetest.RoleAdmin)
		clip := &signalClipboard{ch: make(chan clipSet, 1)}
		cfg := f.config()
		cfg.Clipboard = clip
		e := f.open(b, cfg)
		watching(b, e, AutoConfig{Folders: []WatchFolder{{Path: f.dir}}})
		tmp := filepath.Join(filepath.Dir(f.dir), "tmp")
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			b.Fatal(err)
		}
		const n = 200
		lat := make([]time.Duration, 0, n)
		for i := range n {
			name := fmt.Sprintf("l%03d.png", i)
			var p string
			var closed time.Time
			if renamed {
				src := filepath.Join(tmp, name)
				data := make([]byte, 50_000) // different files: no link reused
				copy(data, name)
				if err := os.WriteFile(src, data, 0o644); err != nil {
					b.Fatal(err)
				}
				p = filepath.Join(f.dir, name)
				closed = time.Now()
				if err := os.Rename(src, p); err != nil {
					b.Fatal(err)
				}
			} else {
				p, _ = f.write(b, name, 50_000)
				closed = time.Now() // os.WriteFile has closed the file
			}
			var set clipSet
			select {
			case set = <-clip.ch:
			case <-time.After(30 * time.Second):
				b.Fatalf("no link for %s", p)
			}
			lat = append(lat, set.at.Sub(closed))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[n*95/100].Microseconds())/1000, "p95-ms")
		b.ReportMetric(float64(lat[0].Microseconds())/1000, "min-ms")
	}
}

// BenchmarkBurst500 compares 500 small files through the engine with the
// same 500 files uploaded straight with the client at the same concurrency
// (direct-s). Three runs per iteration, in turn, each on fresh state after
// warmUp untimed files, and each figure is the median over the iterations
// (use -benchtime 5x or more):
//
//   - queued-s: the 500 files handed to the queue in one batch (as `upload`
//     and the watcher do) until the last link is announced; queue-ratio =
//     queued-s / direct-s is the engine's own overhead: the durable queue,
//     the link log, events, dispatch.
//   - watched-s: the 500 files, written beforehand in a sibling folder,
//     renamed into the watched folder in a burst (as screenshot tools save),
//     from the first rename until the last link is announced; ratio =
//     watched-s / direct-s is the whole overhead: watcher, queue, engine.
//     A file renamed in settles in movedInQuiet (5 ms), not the 200 ms
//     gate of a file written in place.
//
// unfolded-ms is how long after the last link the watched run's links were
// only in the link log (see LinkLogFile), until folded into bbolt.
//
// The engine sends a burst several files per request (see maxGroup); the
// "-one" variants set OneFilePerRequest, as the direct run does, so their
// ratios are the engine's own overhead, request for request.
//
// The fake server writes what it receives into the same file system
// (loopback), or only hashes it (loopback-hashonly, like a server on another
// machine: uploads then take ~0.17 ms and the engine's fixed costs show
// most); rtt-20ms delays every upload answer by 20 ms, like a real network.
// The runs carry pprof labels: with -cpuprofile, `go tool pprof
// -tagfocus run=queued` shows one run's CPU (the fake server's included).
func BenchmarkBurst500(b *testing.B) {
	for _, v := range []struct {
		name  string
		delay time.Duration
		srv   ziplinetest.Config
	}{
		{"loopback", 0, ziplinetest.Config{}},
		{"loopback-hashonly", 0, ziplinetest.Config{HashOnly: true}},
		{"rtt-20ms", 20 * time.Millisecond, ziplinetest.Config{}},
	} {
		b.Run(v.name, func(b *testing.B) { benchBurst(b, v.delay, v.srv, false) })
		b.Run(v.name+"-one", func(b *testing.B) { benchBurst(b, v.delay, v.srv, true) })
	}
}

// quiesce flushes the files a run prepared, and collects garbage, so the
// run after it does not pay for them.
func quiesce() {
	flushDisk()
	runtime.GC()
}

// profileWindow starts a CPU profile of one timed window when
// BURST_PROFILE names a folder (the whole-run -cpuprofile also counts the
// files each run prepares); stop ends it and may be called again. Merge
// the files with `go tool pprof uploader.test BURST_PROFILE/watched-*`.
//
// BURST_TRACE names a folder for an execution trace of each window instead
// (`go tool trace -pprof=sched FILE` shows where goroutines waited for a CPU).
func profileWindow(b *testing.B, run string) (stop func()) {
	var start func(io.Writer) error
	var end func()
	dir, ext := os.Getenv("BURST_TRACE"), ".trace"
	switch {
	case dir != "":
		start, end = trace.Start, trace.Stop
	case os.Getenv("BURST_PROFILE") != "":
		dir, ext = os.Getenv("BURST_PROFILE"), ".pprof"
		start, end = pprof.StartCPUProfile, pprof.StopCPUProfile
	default:
		return func() {}
	}
	f, err := os.CreateTemp(dir, run+"-*"+ext)
	if err != nil {
		b.Fatal(err)
	}
	if err := start(f); err != nil {
		b.Fatal(err)
	}
	return sync.OnceFunc(func() {
		end()
		f.Close()
	})
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func benchBurst(b *testing.B, delay time.Duration, srv ziplinetest.Config, one bool) {
	const n, conc = 500, 2
	var direct, arriving, queued, watched, qratio, ratio, aratio, unfolded []float64
	for b.Loop() {
		var d, a, q, w time.Duration
		var uf time.Duration
		pprof.Do(context.Background(), pprof.Labels("run", "watched"), func(context.Context) { w, uf = burstWatched(b, srv, n, delay, one) })
		pprof.Do(context.Background(), pprof.Labels("run", "direct"), func(context.Context) { d = burstDirect(b, srv, n, conc, delay) })
		pprof.Do(context.Background(), pprof.Labels("run", "queued"), func(context.Context) { q = burstQueued(b, srv, n, delay, one) })
		pprof.Do(context.Background(), pprof.Labels("run", "arriving"), func(context.Context) { a = burstArriving(b, srv, n, conc, delay) })
		direct, queued, watched = append(direct, d.Seconds()), append(queued, q.Seconds()), append(watched, w.Seconds())
		arriving = append(arriving, a.Seconds())
		qratio = append(qratio, q.Seconds()/d.Seconds())
		ratio = append(ratio, w.Seconds()/d.Seconds())
		aratio = append(aratio, w.Seconds()/a.Seconds())
		unfolded = append(unfolded, float64(uf.Milliseconds()))
		b.Logf("direct %.3f s, arriving %.3f s, queued %.3f s, watched %.3f s", d.Seconds(), a.Seconds(), q.Seconds(), w.Seconds())
	}
	b.ReportMetric(median(direct), "direct-s")
	b.ReportMetric(median(queued), "queued-s")
	b.ReportMetric(median(qratio), "queue-ratio")
	b.ReportMetric(median(watched), "watched-s")
	b.ReportMetric(median(ratio), "ratio")
	b.ReportMetric(median(arriving), "arriving-s")
	b.ReportMetric(median(aratio), "arrival-ratio")
	b.ReportMetric(median(unfolded), "unfolded-ms")
}

// burstFiles writes n files of about 2 KB into dir.
func burstFiles(b *testing.B, f *fixture, dir string, prefix string, n int) []string {
	b.Helper()
	old := f.dir
	f.dir = dir
	defer func() { f.dir = old }()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	var paths []string
	for i := range n {
		p, _ := f.write(b, fmt.Sprintf("%s%03d.png", prefix, i), 2000+i)
		paths = append(paths, p)
	}
	return paths
}

func waitUploaded(b *testing.B, events <-chan Event, n int) {
	b.Helper()
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
}

// burstDirect uploads n files with the client alone.
func burstDirect(b *testing.B, srv ziplinetest.Config, n, conc int, delay time.Duration) time.Duration {
	f := newFixtureWith(b, ziplinetest.RoleAdmin, srv)
	defer os.RemoveAll(filepath.Dir(f.dir))
	defer f.srv.Close() // now, not when the benchmark ends: its files go
	f.srv.SetDelay("/api/upload", delay)
	paths := burstFiles(b, f, f.dir, "d", n)
	c, err := f.creds.Client(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	uploadAll(b, c, burstFiles(b, f, f.dir, "dwarm", warmUp), conc)
	quiesce()
	stop := profileWindow(b, "direct")
	defer stop()
	start := time.Now()
	uploadAll(b, c, paths, conc)
	return time.Since(start)
}

// burstArriving uploads n files with the client alone as they arrive: each
// is renamed into the folder, as in burstWatched, and handed at once to
// conc uploaders, like a script that uploads every file it is told about.
// The renames run alongside the uploads, as a screenshot tool's would.
func burstArriving(b *testing.B, srv ziplinetest.Config, n, conc int, delay time.Duration) time.Duration {
	f := newFixtureWith(b, ziplinetest.RoleAdmin, srv)
	defer os.RemoveAll(filepath.Dir(f.dir))
	defer f.srv.Close() // now, not when the benchmark ends: its files go
	f.srv.SetDelay("/api/upload", delay)
	paths := burstFiles(b, f, filepath.Join(filepath.Dir(f.dir), "prepared"), "a", n)
	c, err := f.creds.Client(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	uploadAll(b, c, burstFiles(b, f, f.dir, "awarm", warmUp), conc)
	quiesce()
	stop := profileWindow(b, "arriving")
	defer stop()
	start := time.Now()
	arrived := make(chan string, n)
	go func() {
		defer close(arrived)
		for _, p := range paths {
			np := filepath.Join(f.dir, filepath.Base(p))
			if err := os.Rename(p, np); err != nil {
				b.Error(err)
				return
			}
			arrived <- np
		}
	}()
	uploadFrom(b, c, arrived, conc)
	return time.Since(start)
}

// warmUp files go first, untimed, in every run: connections are open and
// the queue database has been written to, as in a running app (a fresh
// database's first commit allocates and costs several ms).
const warmUp = 4

func uploadAll(b *testing.B, c *zipline.Client, paths []string, conc int) {
	work := make(chan string)
	go func() {
		defer close(work)
		for _, p := range paths {
			work <- p
		}
	}()
	uploadFrom(b, c, work, conc)
}

// uploadFrom uploads what arrives on work with conc uploaders until it is
// closed.
func uploadFrom(b *testing.B, c *zipline.Client, work <-chan string, conc int) {
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
	wg.Wait()
}

// warm sends warmUp files through e and waits until their links are folded.
func warm(b *testing.B, e *Engine, f *fixture, events <-chan Event) {
	var reqs []addReq
	for _, p := range burstFiles(b, f, filepath.Join(filepath.Dir(f.dir), "warm"), "warm", warmUp) {
		reqs = append(reqs, addReq{path: p, o: AddOptions{Source: SourceUser}})
	}
	e.addMany(reqs)
	waitUploaded(b, events, warmUp)
	testutil.WaitFor(b, 10*time.Second, "the warm-up links to be folded", func() bool { return !e.st.pendingFolds() })
}

// burstQueued hands n files to the queue in one batch.
func burstQueued(b *testing.B, srv ziplinetest.Config, n int, delay time.Duration, one bool) time.Duration {
	q := newFixtureWith(b, ziplinetest.RoleAdmin, srv)
	defer os.RemoveAll(filepath.Dir(q.dir))
	defer q.srv.Close() // now, not when the benchmark ends: its files go
	q.srv.SetDelay("/api/upload", delay)
	var reqs []addReq
	for _, p := range burstFiles(b, q, q.dir, "q", n) {
		reqs = append(reqs, addReq{path: p, o: AddOptions{Source: SourceWatch}})
	}
	cfg := q.config()
	cfg.OneFilePerRequest = one
	e, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	events, unsubscribe := e.Subscribe()
	defer unsubscribe()
	warm(b, e, q, events)
	quiesce()
	stop := profileWindow(b, "queued")
	defer stop()
	start := time.Now()
	for i, r := range e.addMany(reqs) {
		if r.err != nil || !r.added {
			b.Fatalf("queue %s: added %v, %v", reqs[i].path, r.added, r.err)
		}
	}
	waitUploaded(b, events, n)
	return time.Since(start)
}

// burstWatched renames n prepared files into a watched folder.
func burstWatched(b *testing.B, srv ziplinetest.Config, n int, delay time.Duration, one bool) (watched, unfolded time.Duration) {
	g := newFixtureWith(b, ziplinetest.RoleAdmin, srv)
	defer os.RemoveAll(filepath.Dir(g.dir))
	defer g.srv.Close() // now, not when the benchmark ends: its files go
	g.srv.SetDelay("/api/upload", delay)
	paths := burstFiles(b, g, filepath.Join(filepath.Dir(g.dir), "prepared"), "w", n)
	cfg := g.config()
	cfg.OneFilePerRequest = one
	e, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	events, unsubscribe := e.Subscribe()
	defer unsubscribe()
	warm(b, e, g, events)
	stopWatching := watching(b, e, AutoConfig{Folders: []WatchFolder{{Path: g.dir}}})
	defer stopWatching()
	quiesce()
	stop := profileWindow(b, "watched")
	defer stop()
	hits := e.preBudget.hits.Load()
	start := time.Now()
	for _, p := range paths {
		if err := os.Rename(p, filepath.Join(g.dir, filepath.Base(p))); err != nil {
			b.Fatal(err)
		}
	}
	waitUploaded(b, events, n)
	watched = time.Since(start)
	stop()
	b.Logf("watched: %d of %d uploaded from the bytes the watcher read", e.preBudget.hits.Load()-hits, n)
	// How long the links stay only in the log (a power cut would cost
	// their records) after the last one: foldIdle plus one bbolt commit.
	for e.st.pendingFolds() {
		if time.Since(start) > watched+10*time.Second {
			b.Fatal("the link log was not folded 10 s after the burst")
		}
		time.Sleep(time.Millisecond)
	}
	return watched, time.Since(start) - watched
}
