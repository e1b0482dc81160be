// Command benchgui measures tray apps side by side (issue 5): start-up to
// tray ready, and the CPU time and memory they use while idle. It is the
// tray host itself (internal/traytest on $DBUS_SESSION_BUS_ADDRESS), so the
// apps' StatusNotifierItems really register, and it times each start from
// exec to the registration. Linux only (reads /proc). Run it through
// scripts/bench-gui.sh, which provides the bus, Xvfb and a signed-in
// profile.
//
//	benchgui [-runs 5] [-settle 5s] [-idle 60s] NAME=COMMAND NAME=COMMAND
//
// Start-up runs alternate between the apps (so background load hits both
// alike); one unmeasured warm-up start each comes first. Then all apps start
// together, settle, and are sampled over the same idle window. The first
// app is the floor the others are compared with.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/traytest"
)

// Issue 5's targets.
const (
	targetStartup  = 500 * time.Millisecond
	targetRSSOver  = 15 << 10 // KiB over the floor
	targetCPUPer60 = 0.2      // CPU seconds per 60 idle seconds
)

type app struct {
	name string
	argv []string
}

// sample is what /proc says about a process at one moment.
type sample struct {
	ticks       int64 // utime+stime
	rss, hwm    int64 // KiB
	threads     int64
	ctxSwitches int64 // voluntary context switches: how often it slept and woke up
}

type result struct {
	app
	startups    []time.Duration
	startTicks  int64 // CPU ticks from exec to the end of settling
	start, end  sample
	rssMax      int64
	visibleWins []string
	memory      map[string]int64 // RSS in KiB by kind of mapping, at the end of idle
}

func main() {
	runs := flag.Int("runs", 5, "measured start-ups per app")
	settle := flag.Duration("settle", 5*time.Second, "wait after tray ready before measuring idle")
	idle := flag.Duration("idle", 60*time.Second, "idle window")
	timeout := flag.Duration("timeout", 30*time.Second, "how long an app may take to show its tray icon")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), "Usage: benchgui [flags] NAME=COMMAND [NAME=COMMAND...]\n"+
			"COMMAND is split on spaces. The first app is the floor the others are compared with.\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	var apps []app
	for _, a := range flag.Args() {
		name, cmd, ok := strings.Cut(a, "=")
		if !ok || name == "" || strings.TrimSpace(cmd) == "" {
			fmt.Fprintf(os.Stderr, "benchgui: %q: want NAME=COMMAND\n", a)
			os.Exit(2)
		}
		apps = append(apps, app{name: name, argv: strings.Fields(cmd)})
	}
	if len(apps) == 0 || *runs < 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results, err := run(ctx, apps, *runs, *settle, *idle, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgui:", err)
		os.Exit(1)
	}
	report(os.Stdout, results, *idle)
}

func run(ctx context.Context, apps []app, runs int, settle, idle, timeout time.Duration) ([]*result, error) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		return nil, errors.New("DBUS_SESSION_BUS_ADDRESS is not set; run through scripts/bench-gui.sh")
	}
	host, err := traytest.StartAddress(addr)
	if err != nil {
		return nil, fmt.Errorf("be the tray host: %w", err)
	}
	defer host.Close()

	results := make([]*result, len(apps))
	for i, a := range apps {
		results[i] = &result{app: a}
	}
	for r := -1; r < runs; r++ { // r == -1: warm-up (page cache, fontconfig cache, first-run files)
		for _, res := range results {
			p, err := launch(ctx, host, res.app, timeout)
			if err != nil {
				return nil, err
			}
			if r >= 0 {
				res.startups = append(res.startups, p.ready)
			}
			fmt.Fprintf(os.Stderr, "benchgui: %s start %d: tray ready after %v\n", res.name, r+1, p.ready.Round(time.Millisecond))
			if err := p.stop(); err != nil {
				return nil, err
			}
		}
	}

	fmt.Fprintf(os.Stderr, "benchgui: starting all apps, settling %v, then %v idle\n", settle, idle)
	procs := make([]*proc, len(results))
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.stop()
			}
		}
	}()
	for i, res := range results {
		p, err := launch(ctx, host, res.app, timeout)
		if err != nil {
			return nil, err
		}
		procs[i] = p
	}
	if err := sleep(ctx, settle); err != nil {
		return nil, err
	}
	for i, res := range results {
		if res.start, err = read(procs[i].pid); err != nil {
			return nil, err
		}
		res.startTicks = res.start.ticks
		res.rssMax = res.start.rss
	}
	deadline := time.Now().Add(idle)
	for time.Now().Before(deadline) {
		if err := sleep(ctx, min(time.Second, time.Until(deadline))); err != nil {
			return nil, err
		}
		for i, res := range results {
			s, err := read(procs[i].pid)
			if err != nil {
				return nil, fmt.Errorf("%s while idle: %w (stderr: %s)", res.name, err, procs[i].stderrTail())
			}
			res.end = s
			res.rssMax = max(res.rssMax, s.rss)
		}
	}
	for i, res := range results {
		res.visibleWins = visibleWindows(procs[i].pid)
		if res.memory, err = memoryByKind(procs[i].pid); err != nil {
			return nil, fmt.Errorf("%s: %w", res.name, err)
		}
	}
	return results, nil
}

// proc is a started app whose tray icon has registered.
type proc struct {
	cmd    *exec.Cmd
	pid    int
	ready  time.Duration // exec to registration
	done   chan struct{}
	err    error // from Wait, once done is closed
	stderr *tailBuffer
}

func launch(ctx context.Context, host *traytest.Host, a app, timeout time.Duration) (*proc, error) {
	p := &proc{done: make(chan struct{}), stderr: &tailBuffer{max: 4096}}
	p.cmd = exec.Command(a.argv[0], a.argv[1:]...)
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.stderr
	// Take the host's change channel before exec so no registration is missed.
	changed := host.Changed()
	seen := map[string]bool{}
	for _, id := range host.Items() {
		seen[id] = true
	}
	t0 := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", a.name, err)
	}
	p.pid = p.cmd.Process.Pid
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		select {
		case <-changed:
		case <-p.done:
			return nil, fmt.Errorf("%s exited before its tray icon registered: %v\n%s", a.name, p.err, p.stderr)
		case <-ctx.Done():
			p.stop()
			return nil, fmt.Errorf("%s: no tray icon after %v: %w\n%s", a.name, timeout, context.Cause(ctx), p.stderr)
		}
		at := time.Since(t0) // the wake-up is the registration; asking for the owner's pid is not part of it
		changed = host.Changed()
		for _, id := range host.Items() {
			if seen[id] {
				continue
			}
			seen[id] = true
			it, err := traytest.NewItem(host.Conn(), id)
			if err != nil {
				continue
			}
			if pid, err := it.PID(); err == nil && pid == p.pid {
				p.ready = at
				return p, nil
			}
		}
	}
}

// stop ends the app with SIGTERM (SIGKILL after 5 s) and waits for it.
func (p *proc) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
	}
	p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("pid %d ignored SIGTERM for 5 s; killed", p.pid)
}

func (p *proc) stderrTail() string { return p.stderr.String() }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// read samples /proc/PID/stat and /proc/PID/status.
func read(pid int) (sample, error) {
	var s sample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("read /proc: %w", err)
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	s.ticks = utime + stime
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("read /proc: %w", err)
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		n, _ := strconv.ParseInt(strings.Fields(v + " 0")[0], 10, 64)
		switch k {
		case "VmRSS":
			s.rss = n
		case "VmHWM":
			s.hwm = n
		case "Threads":
			s.threads = n
		case "voluntary_ctxt_switches": // it blocked and was woken; preemption by other load is not counted
			s.ctxSwitches += n
		}
	}
	return s, sc.Err()
}

// memoryByKind sums the RSS of the process's mappings (/proc/PID/smaps)
// by kind, and shared libraries by name, to tell what the memory is.
func memoryByKind(pid int) (map[string]int64, error) {
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return nil, fmt.Errorf("read smaps: %w", err)
	}
	defer f.Close()
	kinds := map[string]int64{}
	kind := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") { // a mapping's header line
			start, _ := strconv.ParseUint(strings.Split(fields[0], "-")[0], 16, 64)
			path := ""
			if len(fields) >= 6 {
				path = strings.Join(fields[5:], " ")
			}
			switch {
			case path == exe:
				kind = "program binary"
			case path == "" && start >= 0xc000000000 && start < 0x10000000000:
				kind = "Go heap arenas (anon at 0xc0...)"
			case path == "":
				kind = "other anonymous (C mmap, Go runtime, stacks)"
			case path == "[heap]":
				kind = "C heap (brk)"
			case strings.HasPrefix(path, "["):
				kind = "other " + path
			case strings.Contains(path, ".so"):
				name := path[strings.LastIndexByte(path, '/')+1:]
				kind = "lib " + name[:strings.Index(name, ".so")]
			default:
				kind = "other files"
			}
			continue
		}
		if fields[0] == "Rss:" && len(fields) >= 2 {
			n, _ := strconv.ParseInt(fields[1], 10, 64)
			kinds[kind] += n
		}
	}
	return kinds, sc.Err()
}

// visibleWindows names the process's mapped X windows (xdotool reads
// _NET_WM_PID, which GLFW sets). nil means none; a missing xdotool says so.
func visibleWindows(pid int) []string {
	out, err := exec.Command("xdotool", "search", "--onlyvisible", "--pid", strconv.Itoa(pid)).Output()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && len(out) == 0:
		return nil // xdotool exits 1 when nothing matches
	case err != nil:
		return []string{"(not checked: " + err.Error() + ")"}
	}
	var names []string
	for _, w := range strings.Fields(string(out)) {
		name, _ := exec.Command("xdotool", "getwindowname", w).Output()
		names = append(names, fmt.Sprintf("%s %q", w, strings.TrimSpace(string(name))))
	}
	return names
}

func report(w io.Writer, results []*result, idle time.Duration) {
	hz := float64(clockTicks())
	floor := results[0]
	secs := idle.Seconds()
	cpuTarget := targetCPUPer60 * secs / 60
	cpu := func(r *result) float64 { return float64(r.end.ticks-r.start.ticks) / hz }
	mib := func(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }
	dmib := func(kib int64) string { return fmt.Sprintf("%+.1f MiB", float64(kib)/1024) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds()) }

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	head := []string{"measure"}
	for _, r := range results {
		head = append(head, r.name)
	}
	for _, r := range results[1:] {
		head = append(head, r.name+" - "+floor.name)
	}
	head = append(head, "target")
	row(head...)
	line := func(label string, val func(*result) string, diff func(r *result) string, target string) {
		cells := []string{label}
		for _, r := range results {
			cells = append(cells, val(r))
		}
		for _, r := range results[1:] {
			d := ""
			if diff != nil {
				d = diff(r)
			}
			cells = append(cells, d)
		}
		row(append(cells, target)...)
	}
	n := len(floor.startups)
	line(fmt.Sprintf("start-up to tray ready, median of %d", n), func(r *result) string { return ms(median(r.startups)) },
		func(r *result) string { return ms(median(r.startups) - median(floor.startups)) }, "< "+ms(targetStartup))
	line("start-up to tray ready, max", func(r *result) string { return ms(slices.Max(r.startups)) }, nil, "")
	line(fmt.Sprintf("idle CPU over %.0f s", secs), func(r *result) string { return fmt.Sprintf("%.2f s", cpu(r)) },
		func(r *result) string { return fmt.Sprintf("%+.2f s", cpu(r)-cpu(floor)) }, fmt.Sprintf("< %.2f s", cpuTarget))
	line("idle wake-ups (voluntary ctx switches)", func(r *result) string { return strconv.FormatInt(r.end.ctxSwitches-r.start.ctxSwitches, 10) },
		func(r *result) string {
			return fmt.Sprintf("%+d", (r.end.ctxSwitches-r.start.ctxSwitches)-(floor.end.ctxSwitches-floor.start.ctxSwitches))
		}, "")
	line("RSS at end of idle (VmRSS)", func(r *result) string { return mib(r.end.rss) },
		func(r *result) string { return dmib(r.end.rss - floor.end.rss) }, "floor + 15 MiB")
	line("RSS max while idle", func(r *result) string { return mib(r.rssMax) },
		func(r *result) string { return dmib(r.rssMax - floor.rssMax) }, "")
	line("peak RSS since exec (VmHWM)", func(r *result) string { return mib(r.end.hwm) },
		func(r *result) string { return dmib(r.end.hwm - floor.end.hwm) }, "")
	line("CPU from exec to end of settling", func(r *result) string { return fmt.Sprintf("%.2f s", float64(r.startTicks)/hz) },
		func(r *result) string { return fmt.Sprintf("%+.2f s", float64(r.startTicks-floor.startTicks)/hz) }, "")
	line("threads", func(r *result) string { return strconv.FormatInt(r.end.threads, 10) }, nil, "")
	tw.Flush()

	fmt.Fprintln(w)
	for _, r := range results {
		fmt.Fprintf(w, "%s start-ups (ms):", r.name)
		for _, d := range r.startups {
			fmt.Fprintf(w, " %d", d.Round(time.Millisecond).Milliseconds())
		}
		fmt.Fprintln(w)
	}
	for _, r := range results {
		if len(r.visibleWins) == 0 {
			fmt.Fprintf(w, "%s: no window open while idle\n", r.name)
		} else {
			fmt.Fprintf(w, "%s: WINDOWS OPEN while idle: %s\n", r.name, strings.Join(r.visibleWins, ", "))
		}
	}
	fmt.Fprintln(w)
	memoryTable(w, results)
	fmt.Fprintln(w)
	for _, r := range results[1:] {
		verdict := func(ok bool) string {
			if ok {
				return "met"
			}
			return "MISSED"
		}
		fmt.Fprintf(w, "%s: start-up median %s (target < %s; %s alone %s): %s\n", r.name,
			ms(median(r.startups)), ms(targetStartup), floor.name, ms(median(floor.startups)), verdict(median(r.startups) < targetStartup))
		fmt.Fprintf(w, "%s: idle CPU %.2f s (target < %.2f s; %s alone %.2f s, so the app adds %+.2f s): %s\n", r.name,
			cpu(r), cpuTarget, floor.name, cpu(floor), cpu(r)-cpu(floor), verdict(cpu(r) < cpuTarget))
		fmt.Fprintf(w, "%s: idle RSS %s over %s (target <= +15 MiB): %s\n", r.name,
			dmib(r.end.rss-floor.end.rss), floor.name, verdict(r.end.rss-floor.end.rss <= targetRSSOver))
	}
}

// memoryTable lists RSS by kind of mapping, largest differences first;
// kinds under 1 MiB in every app are summed into one row.
func memoryTable(w io.Writer, results []*result) {
	floor := results[0]
	var kinds []string
	small := map[string]bool{}
	for _, r := range results {
		for k := range r.memory {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	for _, k := range kinds {
		big := false
		for _, r := range results {
			big = big || r.memory[k] >= 1024
		}
		small[k] = !big
	}
	diff := func(k string) int64 {
		var d int64
		for _, r := range results[1:] {
			d = max(d, abs(r.memory[k]-floor.memory[k]))
		}
		return d
	}
	kinds = slices.DeleteFunc(kinds, func(k string) bool { return small[k] })
	slices.SortFunc(kinds, func(a, b string) int { return int(diff(b) - diff(a)) })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	head := []string{"RSS by mapping at end of idle"}
	for _, r := range results {
		head = append(head, r.name)
	}
	for _, r := range results[1:] {
		head = append(head, r.name+" - "+floor.name)
	}
	row(head...)
	sum := func(r *result, k string) int64 {
		if k != "" {
			return r.memory[k]
		}
		var n int64
		for kk, v := range r.memory {
			if small[kk] {
				n += v
			}
		}
		return n
	}
	for _, k := range append(kinds, "") {
		label := k
		if k == "" {
			label = "everything under 1 MiB"
		}
		cells := []string{label}
		for _, r := range results {
			cells = append(cells, fmt.Sprintf("%.1f MiB", float64(sum(r, k))/1024))
		}
		for _, r := range results[1:] {
			cells = append(cells, fmt.Sprintf("%+.1f MiB", float64(sum(r, k)-sum(floor, k))/1024))
		}
		row(cells...)
	}
	tw.Flush()
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports (getconf CLK_TCK).
func clockTicks() int64 {
	if out, err := exec.Command("getconf", "CLK_TCK").Output(); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 100
}

// tailBuffer keeps the last max bytes written to it (the app's stderr,
// for error messages).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
