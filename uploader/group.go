package uploader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
)

// Grouping: when more small files are ready than there are free workers, a
// worker sends several in one request. Zipline takes many file parts per
// request and answers with their links in order. Its rate limit counts
// requests (10 a minute for a non-admin, by default), so a burst of
// screenshots goes up maxGroup times faster there, and everywhere a
// request's round trip and fixed costs are paid once per group. A single
// screenshot is never held back to wait for company.
const (
	maxGroup   = 8       // files per request
	groupBytes = 8 << 20 // bytes per request, at first (see Engine.groupMax)
)

// member is a file claimed to go in another file's request.
type member struct {
	j    job
	p    prepared
	sent bool
	twin int // with the same content as sending[twin] (the lead: 0), which goes instead
}

// claimGroup claims the files to send along with lead, if all workers are
// busy and more small files are ready; none otherwise.
func (e *Engine) claimGroup(lead prepared) []*member {
	if e.cfg.OneFilePerRequest || lead.data == nil || lead.chunked || !lead.limOK || lead.it.solo ||
		lead.set.Options.Filename != "" || lead.it.Size <= 0 || lead.it.Size > lead.lim.MaxFileSize {
		return nil
	}
	var g []*member
	e.mu.Lock()
	now := time.Now()
	total := lead.it.Size
	// A free worker takes the next file sooner than this request would.
	if e.slotsLocked() >= e.cfg.Concurrency && !e.paused && !now.Before(e.gate) && !e.closing {
		for len(g) < maxGroup-1 {
			next := e.pickLocked(now)
			if next == nil || !groupable(next, lead.lim, total, e.groupMax) {
				break
			}
			total += next.Size
			g = append(g, &member{j: e.claimLocked(next)})
			e.extra++
		}
	}
	e.mu.Unlock()
	for _, m := range g {
		e.ev.publish(Event{Type: EventStarted, Item: m.j.it.ID, Path: m.j.it.Path, Total: m.j.it.Size})
	}
	return g
}

// groupable reports whether it may join a group of total bytes.
func groupable(it *Item, lim zipline.Limits, total, most int64) bool {
	switch {
	case it.solo, it.Size <= 0, it.Size > smallFile, it.Size > lim.MaxFileSize, total+it.Size > most:
		return false
	case lim.ChunksEnabled && lim.ChunkMin > 0 && it.Size >= lim.ChunkMin:
		return false
	}
	return true
}

// sendGroup prepares the members and sends them with lead in one request.
// Members that are not sent (deleted, reused link, grown) are settled at
// once; it returns lead's outcome, then one per remaining member.
func (e *Engine) sendGroup(ctx context.Context, gen uint64, lead prepared, g []*member) []outcome {
	seen := map[string]int{lead.key: 0}
	sending := []prepared{lead}
	e.mu.Lock()
	most := e.groupMax
	e.mu.Unlock()
	total := lead.it.Size
	var twins []*member
	for _, m := range g {
		if e.memberHook != nil {
			e.memberHook(m.j.it)
		}
		// Sent with lead's client, so any 401 is charged to lead's sign-in.
		p, out, ok := e.prepare(m.j.ctx, m.j.it, gen, m.j.pre, &lead)
		switch twin, dup := seen[p.key]; {
		case !ok:
			e.settleMember(m.j.ctx, gen, out)
		case !groupable(&p.it, lead.lim, total, most):
			// It grew since it was queued: it goes on its own.
			p.it.solo = true
			e.settleMember(m.j.ctx, gen, e.putBack(m.j.ctx, gen, p.it))
		case dup:
			// The same content twice: sent once, and the other gets its
			// link as from the upload record.
			m.p, m.twin = p, twin
			twins = append(twins, m)
		default:
			seen[p.key] = len(sending)
			m.p, m.sent = p, true
			sending = append(sending, p)
			total += p.it.Size
		}
	}
	sent := e.sendMany(ctx, gen, sending, g)
	outs := sent
	for _, m := range twins {
		tw := sent[m.twin]
		switch {
		case m.j.ctx.Err() != nil:
			outs = append(outs, e.fail(m.j.ctx, m.p.it, gen, m.j.ctx.Err()))
		case tw.ev.Type == EventFailed:
			// Its twin failed: the same back-off, not a retry at once.
			it := m.p.it
			it.State, it.Retrying, it.NextAttempt, it.Reason = tw.it.State, tw.it.Retrying, tw.it.NextAttempt, tw.it.Reason
			ev := tw.ev
			ev.Item, ev.Path, ev.Folder = it.ID, it.Path, it.Folder
			outs = append(outs, outcome{it: it, ev: ev})
		case tw.ev.Type == EventUploaded && !tw.it.Reused && tw.rec.FileID != "" &&
			(e.cfg.ReuseLinks || m.p.it.Path == sending[m.twin].it.Path):
			outs = append(outs, reused(m.p.it, m.p.fi, tw.rec, m.p.set.LinkFormat))
		default:
			// Not sent, or links are not reused: it goes again, on its own
			// turn (by then the record of its twin, if any, is written).
			outs = append(outs, e.requeue(m.p.it))
		}
	}
	return outs
}

// settleMember settles a member that is not sent, at once: it leaves the
// running uploads, so a cancel from now on finds it settled, and its
// outcome does not wait for the group's request. A cancel that came first
// wins over a reused link.
func (e *Engine) settleMember(ctx context.Context, gen uint64, o outcome) {
	if ctx.Err() != nil && o.ev.Type == EventUploaded {
		o = e.fail(ctx, o.it, gen, ctx.Err())
	}
	e.mu.Lock()
	e.extra--
	e.mu.Unlock()
	if o.ev.Type == EventUploaded {
		e.commit.add(e, false, []outcome{o})
	} else {
		e.settle(o)
	}
}

// sendMany sends ps (lead first, then the members that are sent, in g's
// order) in one request and returns their outcomes in the same order.
func (e *Engine) sendMany(ctx context.Context, gen uint64, ps []prepared, g []*member) []outcome {
	outs := make([]outcome, len(ps))
	ctxs := []context.Context{ctx}
	for _, m := range g {
		if m.sent {
			ctxs = append(ctxs, m.j.ctx)
		}
	}
	each := func(f func(i int) outcome) []outcome {
		for i := range ps {
			outs[i] = f(i)
		}
		return outs
	}
	requeueAll := func(solo bool) []outcome {
		return each(func(i int) outcome {
			it := ps[i].it
			it.solo = it.solo || solo
			return e.putBack(ctxs[i], gen, it)
		})
	}
	if len(ps) == 1 {
		outs[0] = e.send(ctx, gen, ps[0])
		return outs
	}
	// As in send: no request starts inside a 401 pause or a 429 wait.
	if e.held() {
		return requeueAll(false)
	}
	// A user's cancel ends the request only until the body is complete, or
	// when every file in it is cancelled: the server stores nothing of a
	// body cut short, but from then on it may store every file, and the
	// others sent again would be stored twice. A file cancelled later is
	// deleted from the server instead.
	// Shutdown ends the request at any time (like a crash: see the kill
	// test's bound).
	gctx, cancel := context.WithCancelCause(e.workCtx)
	defer cancel(nil)
	var mu sync.Mutex
	complete, cancelled := false, 0
	for _, c := range ctxs {
		stop := context.AfterFunc(c, func() {
			mu.Lock()
			defer mu.Unlock()
			cause := context.Cause(c)
			if errors.Is(cause, errCancelled) {
				cancelled++
			}
			if !complete || cancelled == len(ctxs) || !errors.Is(cause, errCancelled) {
				cancel(cause)
			}
		})
		defer stop()
	}
	ups := make([]zipline.Upload, len(ps))
	var total int64
	for i, p := range ps {
		ups[i] = zipline.BytesUpload(filepath.Base(p.it.Path), p.data)
		total += p.it.Size
	}
	open := ups[0].Open
	ups[0].Open = func() (io.ReadCloser, error) {
		if e.held() {
			return nil, errHeld
		}
		return open()
	}
	// Asked once the last part's bytes are out, before the closing
	// boundary: the body is complete only if no cancel came first.
	ups[len(ups)-1].Unchanged = func() error {
		mu.Lock()
		defer mu.Unlock()
		if err := context.Cause(gctx); err != nil {
			return err
		}
		complete = true
		return nil
	}
	files, err := ps[0].c.UploadMany(gctx, ups, ps[0].set.Options, e.groupProgress(ps, 100*time.Millisecond))
	var apiErr *zipline.APIError
	switch {
	case err == nil:
		return each(func(i int) outcome {
			if errors.Is(context.Cause(ctxs[i]), errCancelled) {
				// Deleted on the server once the others are handed over
				// (finish): a network round trip here would leave them
				// running, decided, for a cancel to find.
				o := e.fail(ctxs[i], ps[i].it, gen, context.Cause(ctxs[i]))
				o.stored = &storedFile{c: ps[i].c, f: files[i]}
				return o
			}
			return e.uploaded(ctxs[i], ps[i], &files[i])
		})
	case errors.Is(err, errHeld):
		return requeueAll(false)
	case gctx.Err() != nil:
		// Cancelled members are cancelled, at shutdown all stay queued;
		// the others lost their request through no fault of their own.
		return each(func(i int) outcome {
			o := e.putBack(ctxs[i], gen, ps[i].it)
			if complete && o.ev.Type == EventCancelled {
				// Every file was cancelled after the body was out.
				o.it.Reason = "cancelled by the user; all of it had been sent, so the server may have kept a copy"
				o.ev.Reason = o.it.Reason
			}
			return o
		})
	case errors.Is(err, zipline.ErrTooLarge) && errors.As(err, &apiErr) && apiErr.Status == 413:
		// A body limit on the way (nginx's client_max_body_size): send
		// smaller groups from now on, and these one by one.
		e.mu.Lock()
		e.groupMax = min(e.groupMax, total/2)
		e.mu.Unlock()
		e.log.Info("a group of uploads was too large for the server; sending smaller ones", "files", len(ps), "bytes", total)
		return requeueAll(true)
	case errors.Is(err, zipline.ErrBadRequest), errors.Is(err, zipline.ErrTooLarge),
		errors.Is(err, zipline.ErrQuota), errors.Is(err, zipline.ErrForbidden),
		errors.Is(err, zipline.ErrFileCount):
		// One file may be the cause (a name taken, a type refused, a quota
		// that fits some): each goes again on its own, to get its own
		// answer. An answer for fewer files than sent is not retried as a
		// group either: that would store the kept ones again and again.
		e.log.Info("a group of uploads was refused; sending them one by one", "files", len(ps), "err", err)
		return requeueAll(true)
	default:
		// 401, 429, 5xx, network: what happens to one file happens to each.
		return each(func(i int) outcome {
			return e.fail(ctxs[i], ps[i].it, gen, fmt.Errorf("upload %s: %w", filepath.Base(ps[i].it.Path), err))
		})
	}
}

// groupProgress turns a group's progress into each file's: the parts go in
// order. As for one file, at most once per every, and nothing for a group
// sent at once.
func (e *Engine) groupProgress(ps []prepared, every time.Duration) zipline.Progress {
	var last time.Time
	var before int64 // sent at the last report
	return func(sent, total int64) {
		now := time.Now()
		if now.Sub(last) < every || sent >= total && last.IsZero() {
			return
		}
		last = now
		var off int64
		for _, p := range ps {
			size := p.it.Size
			mine, was := min(max(sent-off, 0), size), min(max(before-off, 0), size)
			if mine != was {
				e.ev.publish(Event{Type: EventProgress, Item: p.it.ID, Path: p.it.Path, Sent: mine, Total: size})
			}
			off += size
		}
		before = sent
	}
}

// storedFile is a cancelled file the server had already stored.
type storedFile struct {
	c *zipline.Client
	f zipline.UploadedFile
}

// deleteStored deletes o's stored copy on the server and says so in its
// reason. Close ends the wait (the reason then says the server kept it).
func (e *Engine) deleteStored(o outcome) outcome {
	ctx, stop := context.WithTimeout(e.ctx, 30*time.Second)
	defer stop()
	o.it.Reason = "cancelled by the user; it had reached the server, and was deleted there"
	if _, err := o.stored.c.DeleteFile(ctx, o.stored.f.ID); err != nil && !errors.Is(err, zipline.ErrNotFound) {
		e.log.Warn("delete a cancelled upload from the server", "path", o.it.Path, "url", o.stored.f.URL, "err", err)
		o.it.Reason = fmt.Sprintf("cancelled by the user, but it had reached the server, which keeps it (%s): %v", o.stored.f.URL, err)
	}
	o.ev.Reason = o.it.Reason
	return o
}
