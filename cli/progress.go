package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressMin is the size from which a file gets a progress bar: smaller
// files finish before a bar would be worth drawing.
const progressMin = 4 << 20

// progressBar draws one status line on a terminal (stderr) for the files
// being uploaded: "[=====>    ]  45%  12.0/27.0 MiB  3.1 MiB/s  a.png".
// Other output goes through its printf methods, which erase the line first
// so the bar never mixes with URLs or errors.
type progressBar struct {
	w     io.Writer
	width func() int // terminal columns
	now   func() time.Time

	interval time.Duration

	mu       sync.Mutex
	files    map[int]*barFile
	start    time.Time
	lastDraw time.Time
	drawn    bool // a bar is on screen
	stopped  bool
	stop     chan struct{}
	wg       sync.WaitGroup
}

type barFile struct {
	name        string
	sent, total int64
}

// newProgressBar starts redrawing w every interval until close. w must be
// a terminal; a nil *progressBar is valid and draws nothing.
func newProgressBar(w io.Writer, width func() int, interval time.Duration) *progressBar {
	p := &progressBar{w: w, width: width, now: time.Now, interval: interval, files: map[int]*barFile{}, stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				p.draw()
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// update records the progress of file i; files under progressMin are not
// shown.
func (p *progressBar) update(i int, name string, sent, total int64) {
	if p == nil || total < progressMin {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.files[i]
	if f == nil {
		f = &barFile{name: name}
		p.files[i] = f
		if p.start.IsZero() {
			p.start = p.now()
		}
	}
	f.sent, f.total = sent, total
	// Draw at once on news, at most once per interval; the ticker keeps
	// the rate current while nothing moves.
	if p.now().Sub(p.lastDraw) >= p.interval {
		p.draw()
	}
}

// done removes file i from the bar.
func (p *progressBar) done(i int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.files, i)
	if len(p.files) == 0 {
		p.erase()
		p.start = time.Time{}
	}
}

// printf writes to w with the bar erased first; the next tick redraws it.
func (p *progressBar) printf(w io.Writer, format string, a ...any) {
	if p == nil {
		fmt.Fprintf(w, format, a...)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
	fmt.Fprintf(w, format, a...)
}

// close stops the redraws and erases the bar.
func (p *progressBar) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.stop)
	}
	p.mu.Unlock()
	p.wg.Wait()
	p.mu.Lock()
	p.erase()
	p.mu.Unlock()
}

func (p *progressBar) erase() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func (p *progressBar) draw() {
	if p.stopped || len(p.files) == 0 {
		return
	}
	var sent, total int64
	name := ""
	for _, f := range p.files {
		sent += f.sent
		total += f.total
		name = f.name
	}
	if len(p.files) > 1 {
		name = fmt.Sprintf("%d files", len(p.files))
	}
	var rate float64
	if el := p.now().Sub(p.start).Seconds(); el > 0.5 {
		rate = float64(sent) / el
	}
	fmt.Fprint(p.w, "\r"+barLine(sent, total, rate, name, p.width())+"\x1b[K")
	p.drawn = true
	p.lastDraw = p.now()
}

// barLine formats the status line to fit cols columns.
func barLine(sent, total int64, rate float64, name string, cols int) string {
	if cols <= 0 {
		cols = 80
	}
	pct := 0
	if total > 0 {
		pct = int(sent * 100 / total)
	}
	info := fmt.Sprintf(" %3d%%  %.1f/%s", pct, float64(sent)/(1<<20), mib(total))
	switch {
	case total > 0 && sent >= total:
		info += "  server processing"
	case rate > 0:
		info += "  " + mib(int64(rate)) + "/s"
	}
	info += "  "
	// Leave the last column free so the terminal does not wrap, and room
	// for (the start of) the name.
	nameW := min(len([]rune(name)), 24)
	barW := min(cols-1-len(info)-2-nameW, 30)
	if room := cols - 1 - 2 - max(barW, 0) - len(info); room < len([]rune(name)) {
		if room < 4 {
			name = ""
		} else {
			r := []rune(name)
			name = string(r[:room-1]) + "…"
		}
	}
	if barW < 5 {
		return fit(strings.TrimSpace(info)+" "+name, cols-1)
	}
	filled := 0
	if total > 0 {
		filled = int(int64(barW) * sent / total)
	}
	bar := strings.Repeat("=", filled)
	if filled < barW {
		bar += ">" + strings.Repeat(" ", barW-filled-1)
	}
	return fit("["+bar+"]"+info+name, cols-1)
}

// fit cuts s to at most n runes.
func fit(s string, n int) string {
	if n < 0 {
		n = 0
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// mib formats a byte count in MiB with one decimal ("12.3 MiB").
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
