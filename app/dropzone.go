package app

import (
	"context"
	"fmt"
	"image/color"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// maxDropRows bounds the drop zone's list; older rows live in the history.
const maxDropRows = 30

// dropZone is the tray's own window: drop files, see them upload, copy
// their links.
type dropZone struct {
	u   *UI
	win fyne.Window

	banner      *fyne.Container
	bannerText  *widget.Label
	bannerBtn   *widget.Button
	status      *widget.Label
	statusRow   *fyne.Container // account icon and status
	noTray      *widget.Label
	noteLabel   *widget.Label
	rows        *fyne.Container
	items       map[string]*dropItem
	order       []string // ids, newest first
	empty       *widget.Label
	pauseButton *widget.Button
}

type dropItem struct {
	id, path string
	url      string
	row      *fyne.Container
	name     *widget.Label
	status   *widget.Label
	bar      *widget.ProgressBar
	link     *widget.Hyperlink
	copyBtn  *widget.Button
	openBtn  *widget.Button
	cancel   *widget.Button
	retry    *widget.Button
}

// DropZoneTitle is the drop zone window's title.
const DropZoneTitle = "Zipline Tray"

// OpenLinkLabel is the button that opens an uploaded file's link in the
// browser.
const OpenLinkLabel = "Open"

func newDropZone(u *UI) *dropZone {
	d := &dropZone{u: u, items: map[string]*dropItem{}}
	d.win = u.app.NewWindow(DropZoneTitle)
	d.win.SetIcon(AppIcon)
	if u.opts.HasTray {
		d.win.SetCloseIntercept(d.win.Hide)
	} else {
		d.win.SetMaster()
	}
	d.win.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) { d.dropped(uris) })

	d.bannerText = widget.NewLabel("")
	d.bannerText.Wrapping = fyne.TextWrapWord
	d.bannerBtn = widget.NewButtonWithIcon("Sign in again", theme.LoginIcon(), u.ShowSignIn)
	d.bannerBtn.Importance = widget.HighImportance
	bannerBG := canvas.NewRectangle(color.NRGBA{0xf5, 0x9e, 0x0b, 0x30})
	bannerBG.CornerRadius = theme.InputRadiusSize()
	d.banner = container.NewStack(bannerBG, container.NewPadded(container.NewBorder(nil, nil,
		widget.NewIcon(theme.WarningIcon()), container.NewCenter(d.bannerBtn), d.bannerText)))

	// Normal text: the low-importance colour is too faint to read on the
	// dark theme.
	d.status = widget.NewLabel("")
	d.status.Truncation = fyne.TextTruncateEllipsis
	d.statusRow = container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), nil, d.status)
	d.noTray = widget.NewLabelWithStyle("No system tray found: closing this window quits the app.", fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	d.noTray.Importance = widget.LowImportance
	d.noTray.Wrapping = fyne.TextWrapWord
	if u.opts.HasTray {
		d.noTray.Hide()
	}

	// The drop target: a rounded, outlined area with the two other ways in.
	area := canvas.NewRectangle(color.Transparent)
	area.StrokeColor = theme.Color(theme.ColorNamePrimary)
	area.StrokeWidth = 2
	area.CornerRadius = 12
	icon := widget.NewIcon(theme.UploadIcon())
	title := widget.NewLabelWithStyle("Drop files here", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	pick := widget.NewButtonWithIcon("Choose files…", theme.FolderOpenIcon(), u.PickFiles)
	clip := widget.NewButtonWithIcon("Clipboard image", theme.ContentPasteIcon(), u.UploadClipboardImage)
	inner := container.NewVBox(
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(56), icon)),
		title,
		container.NewCenter(container.NewHBox(pick, clip)),
	)
	dropArea := container.NewStack(area, container.NewPadded(container.NewPadded(inner)))

	d.noteLabel = widget.NewLabel("")
	d.noteLabel.Wrapping = fyne.TextWrapWord
	d.noteLabel.Importance = widget.WarningImportance
	d.noteLabel.Hide()

	d.empty = widget.NewLabelWithStyle("Uploads from this session appear here.", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	d.empty.Importance = widget.LowImportance
	d.rows = container.NewVBox(d.empty)

	d.pauseButton = widget.NewButton("", u.TogglePause)
	footer := container.NewHBox(
		widget.NewButtonWithIcon("Queue & history", theme.HistoryIcon(), u.ShowQueue),
		widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), u.ShowSettings),
		layout.NewSpacer(),
		d.pauseButton,
	)

	top := container.NewVBox(d.banner, d.statusRow, dropArea, d.noteLabel)
	footer = container.NewVBox(d.noTray, footer)
	d.win.SetContent(container.NewPadded(container.NewBorder(top, footer, nil, nil, container.NewVScroll(d.rows))))
	d.win.Resize(fyne.NewSize(440, 560))
	d.refreshBanner()
	return d
}

// dropped takes the files dropped on the window. Only local files count;
// an uploader config (.sxcu, .iscu, .itup) is imported, not uploaded.
func (d *dropZone) dropped(uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() != "file" {
			continue
		}
		p := u.Path()
		if IsUploaderConfig(p) {
			d.importSXCU(p)
			continue
		}
		paths = append(paths, p)
	}
	if len(paths) > 0 {
		d.hideNote()
		d.u.AddFiles(paths)
	}
}

// SXCUHandler, when set, imports a dropped ShareX .sxcu file (issue 6).
// It runs on the UI goroutine.
var SXCUHandler func(u *UI, path string)

func (d *dropZone) importSXCU(path string) {
	if SXCUHandler != nil {
		SXCUHandler(d.u, path)
		return
	}
	d.note(filepath.Base(path) + " is a ShareX configuration; importing it is not supported yet. Use Sign in… instead.")
}

// note shows a message under the drop area until the next drop.
func (d *dropZone) note(msg string) {
	d.noteLabel.SetText(uiText(msg))
	d.noteLabel.Show()
}

func (d *dropZone) hideNote() { d.noteLabel.Hide() }

// refreshBanner shows the sign-in banner and the status line.
func (d *dropZone) refreshBanner() {
	u := d.u
	switch {
	case u.authFailed:
		d.bannerText.SetText("Zipline rejected the saved token. Uploads are paused; nothing is lost.")
		d.bannerBtn.SetText("Sign in again")
		d.banner.Show()
	case u.user == "" && !u.checking:
		d.bannerText.SetText("Sign in to your Zipline server to start uploading.")
		d.bannerBtn.SetText("Sign in…")
		d.banner.Show()
	default:
		d.banner.Hide()
	}
	status := ""
	if u.user != "" {
		status = fmt.Sprintf("Signed in as %s on %s", u.user, host(u.server))
	}
	d.status.SetText(status)
	if status == "" {
		d.statusRow.Hide()
	} else {
		d.statusRow.Show()
	}
	if u.paused {
		d.pauseButton.SetText("Resume")
		d.pauseButton.SetIcon(theme.MediaPlayIcon())
	} else {
		d.pauseButton.SetText("Pause")
		d.pauseButton.SetIcon(theme.MediaPauseIcon())
	}
}

// update applies an engine event to the rows.
func (d *dropZone) update(ev Event) {
	switch ev.Kind {
	case AuthRequired:
		// Uploads under way went back to the queue, to wait for a sign-in.
		for _, it := range d.items {
			if it.url == "" && it.bar.Visible() {
				it.bar.Hide()
				it.setStatus("Waiting for you to sign in again")
			}
		}
		d.refreshBanner()
		return
	case Paused, Resumed:
		d.refreshBanner()
		return
	case WatchChanged:
		return
	}
	it := d.items[ev.Job]
	if it == nil {
		if ev.Kind != Queued && ev.Kind != Progress {
			return
		}
		it = d.add(ev.Job, ev.Path)
	}
	switch ev.Kind {
	case Queued:
		it.setStatus("Waiting…")
	case Progress:
		it.status.Hide()
		if ev.Total > 0 {
			it.bar.SetValue(float64(ev.Sent) / float64(ev.Total))
		}
		it.bar.Show()
		it.cancel.Show()
	case Processing:
		it.bar.SetValue(1)
		it.setStatus("Processing on the server…")
	case Uploaded:
		it.url = ev.URL
		it.bar.Hide()
		it.status.Hide()
		it.cancel.Hide()
		it.retry.Hide()
		it.link.SetText(ev.URL)
		it.link.Show()
		it.copyBtn.Show()
		it.openBtn.Show()
	case Failed:
		it.bar.Hide()
		msg := ev.Reason
		if ev.Retrying {
			msg += " Retrying…"
		} else {
			it.retry.Show()
		}
		it.setStatus(msg)
		it.status.Importance = widget.DangerImportance
		it.status.Refresh()
	case Cancelled:
		it.bar.Hide()
		it.cancel.Hide()
		it.retry.Hide()
		it.setStatus("Cancelled")
	case Skipped:
		it.bar.Hide()
		it.cancel.Hide()
		it.setStatus(ev.Reason)
	}
}

func (it *dropItem) setStatus(s string) {
	it.status.Importance = widget.LowImportance
	it.status.SetText(s)
	it.status.Show()
}

func (d *dropZone) add(id, path string) *dropItem {
	u := d.u
	it := &dropItem{id: id, path: path}
	it.name = widget.NewLabelWithStyle(filepath.Base(path), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	it.name.Truncation = fyne.TextTruncateEllipsis
	it.status = widget.NewLabel("")
	it.status.Wrapping = fyne.TextWrapWord
	it.bar = widget.NewProgressBar()
	it.bar.Hide()
	it.link = widget.NewHyperlink("", nil)
	it.link.Truncation = fyne.TextTruncateEllipsis
	it.link.OnTapped = func() {
		u.CopyLink(it.url)
		it.setStatus("Link copied")
	}
	it.link.Hide()
	it.copyBtn = widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		u.CopyLink(it.url)
		it.setStatus("Link copied")
	})
	// Fyne 2.8 has no tooltips and no browser icon: the word says it.
	it.openBtn = widget.NewButton(OpenLinkLabel, func() { u.OpenLink(it.url) })
	it.cancel = widget.NewButtonWithIcon("", theme.CancelIcon(), func() { u.cancelJob(it.id) })
	it.retry = widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), func() { u.retryJob(it.id) })
	for _, b := range []*widget.Button{it.copyBtn, it.openBtn, it.retry} {
		b.Importance = widget.LowImportance
		b.Hide()
	}
	it.cancel.Importance = widget.LowImportance
	// The name has the row's whole width; the buttons sit beside the
	// progress bar or the link they act on.
	buttons := container.NewHBox(it.copyBtn, it.openBtn, it.retry, it.cancel)
	detail := container.NewBorder(nil, nil, nil, buttons, container.NewVBox(it.bar, it.link, it.status))
	it.row = container.NewBorder(nil, nil, thumbnail(path, 40), nil, container.NewVBox(it.name, detail))

	d.items[id] = it
	d.order = append([]string{id}, d.order...)
	if len(d.order) > maxDropRows {
		for _, old := range d.order[maxDropRows:] {
			delete(d.items, old)
		}
		d.order = d.order[:maxDropRows]
	}
	objs := make([]fyne.CanvasObject, 0, 2*len(d.order))
	for i, oid := range d.order {
		if i > 0 {
			objs = append(objs, widget.NewSeparator())
		}
		objs = append(objs, d.items[oid].row)
	}
	d.rows.Objects = objs
	d.rows.Refresh()
	return it
}

// thumbnail shows a local image file small, or the icon of its type.
func thumbnail(path string, size float32) fyne.CanvasObject {
	var img *canvas.Image
	if isImage(path) && fileExists(path) {
		img = canvas.NewImageFromFile(path)
		img.ScaleMode = canvas.ImageScaleSmooth
	} else {
		img = canvas.NewImageFromResource(fileIcon(path))
	}
	img.FillMode = canvas.ImageFillContain
	return container.NewGridWrap(fyne.NewSquareSize(size), img)
}

// uiText makes messages from other packages safe for Fyne's font, whose
// wrapped labels garble some symbols (an arrow renders followed by U+FFFD).
func uiText(s string) string {
	return strings.NewReplacer("→", ">", "—", "-", "…", "...").Replace(s)
}

// fileIcon picks a theme icon by extension.
func fileIcon(path string) fyne.Resource {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".avif", ".heic", ".svg":
		return theme.FileImageIcon()
	case ".mp4", ".webm", ".mkv", ".mov":
		return theme.FileVideoIcon()
	case ".mp3", ".ogg", ".flac", ".wav":
		return theme.FileAudioIcon()
	case ".txt", ".md", ".log", ".json":
		return theme.FileTextIcon()
	}
	return theme.FileIcon()
}

// ShowDropZone shows the drop zone window.
func (u *UI) ShowDropZone() {
	u.ensureDropZone() // built on first show (lazy.go)
	u.drop.refreshBanner()
	u.drop.win.Show()
	u.drop.win.RequestFocus()
}

// PickFiles opens a file dialog and queues the chosen file.
func (u *UI) PickFiles() {
	u.ShowDropZone()
	fd := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		u.AddFiles([]string{path})
	}, u.drop.win)
	fd.Resize(fyne.NewSize(420, 480))
	fd.Show()
}

func (u *UI) cancelJob(id string) {
	u.goBackground(func(context.Context) func() {
		err := u.opts.Engine.Cancel(id)
		if err == nil {
			return nil
		}
		msg := u.opts.Account.Explain(err)
		return func() { u.dropNote(msg) }
	})
}

func (u *UI) retryJob(id string) {
	u.goBackground(func(context.Context) func() {
		err := u.opts.Engine.Retry(id)
		if err == nil {
			return nil
		}
		msg := u.opts.Account.Explain(err)
		return func() { u.dropNote(msg) }
	})
}
