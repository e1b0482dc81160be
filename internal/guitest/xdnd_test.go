package guitest

import (
	"context"
	"errors"
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// xdndVersion is the XDND protocol version the source speaks; GLFW (and
// so Fyne) understands up to 5.
const xdndVersion = 5

// dropResult is what the target answered during an XDND drop.
type dropResult struct {
	Accepted  bool     // XdndStatus said it would take the drop
	Requested []string // targets asked for in SelectionRequests
	Finished  bool     // XdndFinished arrived
	Success   bool     // XdndFinished said the target took the data
	Action    string   // the action XdndFinished named
}

// xdndSource is a minimal XDND source: a client that drags uri-list data
// onto a window the way a file manager does.
type xdndSource struct {
	conn   *xgb.Conn
	root   xproto.Window
	win    xproto.Window
	atoms  map[string]xproto.Atom
	events chan any // xgb.Event or xgb.Error
	done   chan struct{}
}

func newXdndSource(display string) (*xdndSource, error) {
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("connect to X display %s: %w", display, err)
	}
	s := &xdndSource{
		conn:   conn,
		root:   xproto.Setup(conn).DefaultScreen(conn).Root,
		atoms:  map[string]xproto.Atom{},
		events: make(chan any),
		done:   make(chan struct{}),
	}
	go s.readEvents()
	for _, name := range []string{"XdndAware", "XdndSelection", "XdndEnter", "XdndPosition", "XdndStatus",
		"XdndLeave", "XdndDrop", "XdndFinished", "XdndActionCopy", "text/uri-list"} {
		r, err := xproto.InternAtom(conn, false, uint16(len(name)), name).Reply()
		if err != nil {
			s.close()
			return nil, fmt.Errorf("intern atom %s: %w", name, err)
		}
		s.atoms[name] = r.Atom
	}
	// An unmapped window owns the selection and receives the target's
	// client messages, as a drag source's hidden window does.
	s.win, err = xproto.NewWindowId(conn)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("new window id: %w", err)
	}
	if err := xproto.CreateWindowChecked(conn, 0, s.win, s.root, -10, -10, 1, 1, 0,
		xproto.WindowClassInputOnly, 0, 0, nil).Check(); err != nil {
		s.close()
		return nil, fmt.Errorf("create source window: %w", err)
	}
	return s, nil
}

func (s *xdndSource) readEvents() {
	for {
		ev, xerr := s.conn.WaitForEvent()
		if ev == nil && xerr == nil {
			close(s.events)
			return
		}
		var v any = ev
		if xerr != nil {
			v = xerr
		}
		select {
		case s.events <- v:
		case <-s.done:
			return
		}
	}
}

func (s *xdndSource) close() {
	close(s.done)
	s.conn.Close()
}

func (s *xdndSource) atomName(a xproto.Atom) string {
	for n, v := range s.atoms {
		if v == a {
			return n
		}
	}
	r, err := xproto.GetAtomName(s.conn, a).Reply()
	if err != nil {
		return fmt.Sprintf("atom %d", a)
	}
	return r.Name
}

// send sends an XDND client message to the target window.
func (s *xdndSource) send(target xproto.Window, typ string, data ...uint32) error {
	d := make([]uint32, 5)
	copy(d, data)
	ev := xproto.ClientMessageEvent{
		Format: 32,
		Window: target,
		Type:   s.atoms[typ],
		Data:   xproto.ClientMessageDataUnionData32New(d),
	}
	if err := xproto.SendEventChecked(s.conn, false, target, xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
		return fmt.Errorf("send %s: %w", typ, err)
	}
	return nil
}

// next returns the next event, or an error when ctx ends first.
func (s *xdndSource) next(ctx context.Context, waiting string) (xgb.Event, error) {
	select {
	case v, ok := <-s.events:
		if !ok {
			return nil, errors.New("X connection closed")
		}
		if xerr, isErr := v.(xgb.Error); isErr {
			return nil, fmt.Errorf("X error while waiting for %s: %v", waiting, xerr)
		}
		return v.(xgb.Event), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for %s: %w", waiting, context.Cause(ctx))
	}
}

// xdndDrop drags data (a text/uri-list) from a new source client onto the
// window target of display, at (x, y) in the window's coordinates, and
// drops it: XdndEnter, XdndPosition, then XdndDrop once XdndStatus
// accepts, answering the target's SelectionRequests until XdndFinished.
// A refusal is not an error: the result says what the target answered.
func xdndDrop(ctx context.Context, display string, target uint32, x, y int, data string) (dropResult, error) {
	var res dropResult
	s, err := newXdndSource(display)
	if err != nil {
		return res, err
	}
	defer s.close()
	tw := xproto.Window(target)

	aware, err := xproto.GetProperty(s.conn, false, tw, s.atoms["XdndAware"], xproto.AtomAtom, 0, 1).Reply()
	if err != nil {
		return res, fmt.Errorf("read XdndAware of window %#x: %w", target, err)
	}
	if aware.ValueLen == 0 {
		return res, fmt.Errorf("window %#x is not XdndAware", target)
	}
	pos, err := xproto.TranslateCoordinates(s.conn, tw, s.root, int16(x), int16(y)).Reply()
	if err != nil {
		return res, fmt.Errorf("window %#x to root coordinates: %w", target, err)
	}
	if err := xproto.SetSelectionOwnerChecked(s.conn, s.win, s.atoms["XdndSelection"], xproto.TimeCurrentTime).Check(); err != nil {
		return res, fmt.Errorf("own XdndSelection: %w", err)
	}
	owner, err := xproto.GetSelectionOwner(s.conn, s.atoms["XdndSelection"]).Reply()
	if err != nil || owner.Owner != s.win {
		return res, fmt.Errorf("XdndSelection is not ours after SetSelectionOwner (%v)", err)
	}

	src := uint32(s.win)
	// Three types fit in the message; no XdndTypeList needed.
	if err := s.send(tw, "XdndEnter", src, xdndVersion<<24, uint32(s.atoms["text/uri-list"])); err != nil {
		return res, err
	}
	if err := s.send(tw, "XdndPosition", src, 0, uint32(pos.DstX)<<16|uint32(uint16(pos.DstY)),
		xproto.TimeCurrentTime, uint32(s.atoms["XdndActionCopy"])); err != nil {
		return res, err
	}
	for {
		ev, err := s.next(ctx, "XdndStatus")
		if err != nil {
			return res, err
		}
		if m, ok := ev.(xproto.ClientMessageEvent); ok && m.Type == s.atoms["XdndStatus"] && m.Data.Data32[0] == target {
			res.Accepted = m.Data.Data32[1]&1 == 1
			break
		}
	}
	if !res.Accepted {
		return res, s.send(tw, "XdndLeave", src)
	}
	if err := s.send(tw, "XdndDrop", src, 0, xproto.TimeCurrentTime); err != nil {
		return res, err
	}
	for !res.Finished {
		ev, err := s.next(ctx, "XdndFinished")
		if err != nil {
			return res, err
		}
		switch e := ev.(type) {
		case xproto.SelectionRequestEvent:
			if err := s.answer(e, data); err != nil {
				return res, err
			}
			res.Requested = append(res.Requested, s.atomName(e.Target))
		case xproto.ClientMessageEvent:
			if e.Type == s.atoms["XdndFinished"] && e.Data.Data32[0] == target {
				res.Finished = true
				// The spec puts success in bit 0; GLFW sends the number
				// of bytes it read, so any non-zero value counts.
				res.Success = e.Data.Data32[1] != 0
				if a := e.Data.Data32[2]; a != 0 {
					res.Action = s.atomName(xproto.Atom(a))
				}
			}
		}
	}
	return res, nil
}

// answer serves a SelectionRequest for the XdndSelection: the data for
// text/uri-list, a refusal (property None) for anything else.
func (s *xdndSource) answer(e xproto.SelectionRequestEvent, data string) error {
	prop := e.Property
	if prop == xproto.AtomNone {
		prop = e.Target // an obsolete client
	}
	if e.Selection != s.atoms["XdndSelection"] || e.Target != s.atoms["text/uri-list"] {
		prop = xproto.AtomNone
	} else if err := xproto.ChangePropertyChecked(s.conn, xproto.PropModeReplace, e.Requestor, prop,
		e.Target, 8, uint32(len(data)), []byte(data)).Check(); err != nil {
		return fmt.Errorf("write the dropped data to window %#x: %w", e.Requestor, err)
	}
	n := xproto.SelectionNotifyEvent{
		Time:      e.Time,
		Requestor: e.Requestor,
		Selection: e.Selection,
		Target:    e.Target,
		Property:  prop,
	}
	if err := xproto.SendEventChecked(s.conn, false, e.Requestor, xproto.EventMaskNoEvent, string(n.Bytes())).Check(); err != nil {
		return fmt.Errorf("send SelectionNotify: %w", err)
	}
	return nil
}
