package traytest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// Interfaces an item serves.
const (
	ItemIface = "org.kde.StatusNotifierItem"
	MenuIface = "com.canonical.dbusmenu"
)

// pollEvery is how often Menu and WaitMenu ask again while the menu is
// not (yet) what they wait for. Menus change on signals we could watch,
// but asking is simpler and works with any exporter.
const pollEvery = 25 * time.Millisecond

// Item is a handle on one registered StatusNotifierItem.
type Item struct {
	conn    *dbus.Conn
	Service string          // bus name serving the item, usually the app's unique name
	Path    dbus.ObjectPath // object path of the item
}

// NewItem returns a handle on the item id ("service/path", as the watcher
// lists it) reached through conn.
func NewItem(conn *dbus.Conn, id string) (*Item, error) {
	svc, path := splitItem(id)
	if svc == "" || !path.IsValid() {
		return nil, fmt.Errorf("tray item %q: want \"busname/object/path\"", id)
	}
	return &Item{conn: conn, Service: svc, Path: path}, nil
}

func splitItem(id string) (string, dbus.ObjectPath) {
	i := strings.Index(id, "/")
	if i < 0 {
		return id, DefaultItemPath
	}
	return id[:i], dbus.ObjectPath(id[i:])
}

// RegisteredItems asks whoever owns the watcher name on conn's bus for the
// registered items. It lets a process other than the host (for example
// cmd/faketray's client commands) find the app's item.
func RegisteredItems(ctx context.Context, conn *dbus.Conn) ([]string, error) {
	var items []string
	v, err := conn.Object(WatcherName, WatcherPath).GetProperty(WatcherIface + ".RegisteredStatusNotifierItems")
	if err != nil {
		return nil, fmt.Errorf("list tray items: %w", err)
	}
	if err := v.Store(&items); err != nil {
		return nil, fmt.Errorf("list tray items: %w", err)
	}
	return items, nil
}

func (it *Item) String() string { return it.Service + string(it.Path) }

// PID is the process id that serves the item.
func (it *Item) PID() (int, error) { return busPID(it.conn, it.Service) }

// Property reads one org.kde.StatusNotifierItem property: "Status",
// "Title", "Id", "IconPixmap", "ToolTip", "Menu"...
func (it *Item) Property(ctx context.Context, name string) (dbus.Variant, error) {
	var v dbus.Variant
	err := it.conn.Object(it.Service, it.Path).CallWithContext(ctx,
		"org.freedesktop.DBus.Properties.Get", 0, ItemIface, name).Store(&v)
	if err != nil {
		return dbus.Variant{}, fmt.Errorf("tray item %s property %s: %w", it, name, err)
	}
	return v, nil
}

// Pixmap is one icon image of an item: ARGB32 pixels, big-endian.
type Pixmap struct {
	W, H int32
	Pix  []byte
}

// Icon returns the item's IconPixmap images.
func (it *Item) Icon(ctx context.Context) ([]Pixmap, error) {
	v, err := it.Property(ctx, "IconPixmap")
	if err != nil {
		return nil, err
	}
	var px []Pixmap
	if err := v.Store(&px); err != nil {
		return nil, fmt.Errorf("tray item %s IconPixmap %s: %w", it, v.Signature(), err)
	}
	return px, nil
}

// ToolTip returns the title and description of the item's ToolTip.
func (it *Item) ToolTip(ctx context.Context) (title, description string, err error) {
	v, err := it.Property(ctx, "ToolTip")
	if err != nil {
		return "", "", err
	}
	var tt struct {
		Icon        string
		Images      []Pixmap
		Title       string
		Description string
	}
	if err := v.Store(&tt); err != nil {
		return "", "", fmt.Errorf("tray item %s ToolTip %s: %w", it, v.Signature(), err)
	}
	return tt.Title, tt.Description, nil
}

// StringProperty reads a string property such as "Status" or "Title".
func (it *Item) StringProperty(ctx context.Context, name string) (string, error) {
	v, err := it.Property(ctx, name)
	if err != nil {
		return "", err
	}
	s, ok := v.Value().(string)
	if !ok {
		return "", fmt.Errorf("tray item %s property %s is %s, not a string", it, name, v.Signature())
	}
	return s, nil
}

// Activate is a left click on the icon.
func (it *Item) Activate(ctx context.Context) error {
	return it.call(ctx, "Activate")
}

// SecondaryActivate is a middle click on the icon.
func (it *Item) SecondaryActivate(ctx context.Context) error {
	return it.call(ctx, "SecondaryActivate")
}

func (it *Item) call(ctx context.Context, method string) error {
	c := it.conn.Object(it.Service, it.Path).CallWithContext(ctx, ItemIface+"."+method, 0, int32(0), int32(0))
	if c.Err != nil {
		return fmt.Errorf("tray item %s %s: %w", it, method, c.Err)
	}
	return nil
}

// MenuItem is one entry of a tray menu. The root has ID 0 and no label.
type MenuItem struct {
	ID          int32
	Label       string
	Enabled     bool
	Visible     bool
	Type        string // "standard" or "separator"
	ToggleType  string // "", "checkmark" or "radio"
	ToggleState int32  // 1 checked, 0 not, -1 unknown
	Submenu     bool   // children-display is "submenu"
	Children    []*MenuItem
}

// Find returns the first entry (depth first) whose label is label, or nil.
// Underscores marking mnemonics ("_Quit") are ignored.
func (m *MenuItem) Find(label string) *MenuItem {
	if m == nil {
		return nil
	}
	if m.Type != "separator" && m.ID != 0 && (m.Label == label || stripMnemonic(m.Label) == label) {
		return m
	}
	for _, c := range m.Children {
		if f := c.Find(label); f != nil {
			return f
		}
	}
	return nil
}

// Labels lists the labels of the entries directly under m (separators as "---").
func (m *MenuItem) Labels() []string {
	var out []string
	for _, c := range m.Children {
		if c.Type == "separator" {
			out = append(out, "---")
			continue
		}
		out = append(out, c.Label)
	}
	return out
}

// String draws the tree, one entry a line, for test failure messages.
func (m *MenuItem) String() string {
	var b strings.Builder
	var walk func(*MenuItem, int)
	walk = func(n *MenuItem, depth int) {
		for _, c := range n.Children {
			b.WriteString(strings.Repeat("  ", depth))
			if c.Type == "separator" {
				b.WriteString("---\n")
				continue
			}
			fmt.Fprintf(&b, "%q #%d", c.Label, c.ID)
			if !c.Enabled {
				b.WriteString(" disabled")
			}
			if !c.Visible {
				b.WriteString(" hidden")
			}
			if c.ToggleType != "" {
				fmt.Fprintf(&b, " %s=%d", c.ToggleType, c.ToggleState)
			}
			b.WriteString("\n")
			walk(c, depth+1)
		}
	}
	walk(m, 0)
	return b.String()
}

func stripMnemonic(s string) string {
	s = strings.ReplaceAll(s, "__", "\x00")
	s = strings.ReplaceAll(s, "_", "")
	return strings.ReplaceAll(s, "\x00", "_")
}

// MenuPath reads the item's Menu property.
func (it *Item) MenuPath(ctx context.Context) (dbus.ObjectPath, error) {
	v, err := it.Property(ctx, "Menu")
	if err != nil {
		return "", err
	}
	p, ok := v.Value().(dbus.ObjectPath)
	if !ok || !p.IsValid() || p == "/" {
		return "", fmt.Errorf("tray item %s has no menu (Menu = %v)", it, v)
	}
	return p, nil
}

// Menu reads the whole menu tree. It asks again until the menu has at
// least one entry and every submenu has its children, because exporters
// may answer the first GetLayout with only the top level (fyne.io/systray
// does) or before the app has built its menu.
func (it *Item) Menu(ctx context.Context) (*MenuItem, error) {
	return it.WaitMenu(ctx, nil)
}

// WaitMenu reads the menu until ready(menu) is true (nil: it has entries)
// and returns it; on timeout the error shows the last menu seen.
func (it *Item) WaitMenu(ctx context.Context, ready func(*MenuItem) bool) (*MenuItem, error) {
	path, err := it.MenuPath(ctx)
	if err != nil {
		return nil, err
	}
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	var last *MenuItem
	var lastErr error
	for {
		root, complete, err := it.readMenu(ctx, path)
		if err == nil {
			last = root
			if complete && len(root.Children) > 0 && (ready == nil || ready(root)) {
				return root, nil
			}
		} else if ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			msg := "no answer"
			if last != nil {
				msg = "last menu:\n" + last.String()
			}
			if lastErr != nil {
				msg += "\nlast error: " + lastErr.Error()
			}
			return nil, fmt.Errorf("tray item %s menu: %w; %s", it, context.Cause(ctx), msg)
		case <-t.C:
		}
	}
}

// layout is the com.canonical.dbusmenu layout struct (ia{sv}av).
type layout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

// readMenu fetches the tree; complete is false when a submenu came back
// without children.
func (it *Item) readMenu(ctx context.Context, path dbus.ObjectPath) (*MenuItem, bool, error) {
	root, complete, err := it.getLayout(ctx, path, 0)
	if err != nil {
		return nil, false, err
	}
	// Fetch submenus the answer left out, one level at a time.
	var fill func(*MenuItem) error
	fill = func(m *MenuItem) error {
		for _, c := range m.Children {
			if c.Submenu && len(c.Children) == 0 {
				sub, subComplete, err := it.getLayout(ctx, path, c.ID)
				if err != nil {
					return err
				}
				c.Children = sub.Children
				complete = complete && subComplete && len(sub.Children) > 0
			}
			if err := fill(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := fill(root); err != nil {
		return nil, false, err
	}
	return root, complete, nil
}

func (it *Item) getLayout(ctx context.Context, path dbus.ObjectPath, parent int32) (*MenuItem, bool, error) {
	var rev uint32
	var l layout
	c := it.conn.Object(it.Service, path).CallWithContext(ctx, MenuIface+".GetLayout", 0, parent, int32(-1), []string{})
	if c.Err != nil {
		return nil, false, fmt.Errorf("GetLayout(%d): %w", parent, c.Err)
	}
	if err := c.Store(&rev, &l); err != nil {
		return nil, false, fmt.Errorf("GetLayout(%d) answer: %w", parent, err)
	}
	complete := true
	m, err := convert(l, &complete)
	return m, complete, err
}

func convert(l layout, complete *bool) (*MenuItem, error) {
	m := &MenuItem{ID: l.ID, Enabled: true, Visible: true, Type: "standard", ToggleState: -1}
	for k, v := range l.Props {
		switch k {
		case "label":
			m.Label, _ = v.Value().(string)
		case "enabled":
			m.Enabled, _ = v.Value().(bool)
		case "visible":
			m.Visible, _ = v.Value().(bool)
		case "type":
			m.Type, _ = v.Value().(string)
		case "toggle-type":
			m.ToggleType, _ = v.Value().(string)
		case "toggle-state":
			if s, ok := v.Value().(int32); ok {
				m.ToggleState = s
			}
		case "children-display":
			s, _ := v.Value().(string)
			m.Submenu = s == "submenu"
		}
	}
	for _, cv := range l.Children {
		var cl layout
		if err := dbus.Store([]any{cv.Value()}, &cl); err != nil {
			return nil, fmt.Errorf("menu entry under #%d: %w", l.ID, err)
		}
		c, err := convert(cl, complete)
		if err != nil {
			return nil, err
		}
		m.Children = append(m.Children, c)
	}
	if m.Submenu && len(m.Children) == 0 && m.ID != 0 {
		*complete = false
	}
	return m, nil
}

// Click finds the entry labelled label in a fresh read of the menu and
// clicks it: com.canonical.dbusmenu.Event(id, "clicked", "", 0). It fails
// if the entry is missing, hidden or disabled, listing what the menu has.
func (it *Item) Click(ctx context.Context, label string) error {
	root, err := it.Menu(ctx)
	if err != nil {
		return err
	}
	e := root.Find(label)
	switch {
	case e == nil:
		return fmt.Errorf("tray menu has no entry %q; it has:\n%s", label, root)
	case !e.Visible:
		return fmt.Errorf("tray menu entry %q is hidden", label)
	case !e.Enabled:
		return fmt.Errorf("tray menu entry %q is disabled", label)
	}
	return it.ClickID(ctx, e.ID)
}

// ClickID clicks the entry with id.
func (it *Item) ClickID(ctx context.Context, id int32) error {
	path, err := it.MenuPath(ctx)
	if err != nil {
		return err
	}
	c := it.conn.Object(it.Service, path).CallWithContext(ctx, MenuIface+".Event", 0,
		id, "clicked", dbus.MakeVariant(""), uint32(0))
	if c.Err != nil {
		return fmt.Errorf("click tray menu entry #%d: %w", id, c.Err)
	}
	return nil
}
