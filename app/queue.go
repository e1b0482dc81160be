package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// QueueTitle is the queue and history window's title.
const QueueTitle = "Queue & history"

// NothingWaiting is the Queue tab's line when the queue is empty.
const NothingWaiting = "Nothing waiting to upload."

type queueWindow struct {
	u   *UI
	win fyne.Window

	jobs       []Job
	jobList    *widget.List
	jobSummary *widget.Label
	retryAll   *widget.Button

	history     []Record
	tabs        *container.AppTabs
	historyList *widget.List
	message     *widget.Label
}

// ShowQueue opens the queue and history window (or raises it).
func (u *UI) ShowQueue() {
	if u.queue == nil {
		u.queue = newQueueWindow(u)
		u.queue.reload()
		u.queue.reloadHistory()
		// Nothing waiting: the history is what there is to see.
		if len(u.queue.jobs) == 0 {
			u.queue.tabs.SelectIndex(1)
		}
	} else {
		u.queue.reload()
		u.queue.reloadHistory()
	}
	u.queue.win.Show()
	u.queue.win.RequestFocus()
}

func newQueueWindow(u *UI) *queueWindow {
	q := &queueWindow{u: u}
	q.win = u.app.NewWindow(QueueTitle)
	q.win.SetIcon(AppIcon)
	q.win.SetOnClosed(func() { u.queue = nil })

	q.jobSummary = widget.NewLabel("")
	q.retryAll = widget.NewButtonWithIcon("Retry all", theme.ViewRefreshIcon(), q.doRetryAll)
	q.jobList = widget.NewList(
		func() int { return len(q.jobs) },
		newJobRow,
		func(i widget.ListItemID, o fyne.CanvasObject) { q.bindJob(q.jobs[i], o.(*fyne.Container)) },
	)
	q.jobList.HideSeparators = false
	queueTab := container.NewBorder(
		container.NewHBox(q.jobSummary, layout.NewSpacer(), q.retryAll), nil, nil, nil, q.jobList)

	q.historyList = widget.NewList(
		func() int { return len(q.history) },
		newHistoryRow,
		func(i widget.ListItemID, o fyne.CanvasObject) { q.bindHistory(q.history[i], o.(*fyne.Container)) },
	)
	q.message = widget.NewLabel("")
	q.message.Importance = widget.DangerImportance
	q.message.Wrapping = fyne.TextWrapWord
	q.message.Hide()

	q.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Queue", theme.UploadIcon(), queueTab),
		container.NewTabItemWithIcon("History", theme.HistoryIcon(), q.historyList),
	)
	q.win.SetContent(container.NewPadded(container.NewBorder(nil, q.message, nil, nil, q.tabs)))
	q.win.Resize(fyne.NewSize(640, 480))
	return q
}

// reload takes a fresh snapshot of the queue: failed first, then by state.
func (q *queueWindow) reload() {
	q.jobs = q.u.opts.Engine.Queue()
	sort.SliceStable(q.jobs, func(i, j int) bool {
		return stateOrder(q.jobs[i].State) < stateOrder(q.jobs[j].State)
	})
	failed := 0
	for _, j := range q.jobs {
		if j.State == StateFailed {
			failed++
		}
	}
	switch {
	case len(q.jobs) == 0:
		q.jobSummary.SetText(NothingWaiting)
	case failed > 0:
		q.jobSummary.SetText(fmt.Sprintf("%s, %d failed", plural(len(q.jobs), "file in the queue", "files in the queue"), failed))
	default:
		q.jobSummary.SetText(plural(len(q.jobs), "file in the queue", "files in the queue"))
	}
	if failed > 0 {
		q.retryAll.Enable()
	} else {
		q.retryAll.Disable()
	}
	// An empty queue: the line says so and there is nothing to retry.
	if len(q.jobs) == 0 {
		q.retryAll.Hide()
	} else {
		q.retryAll.Show()
	}
	q.jobList.Refresh()
}

func stateOrder(s JobState) int {
	switch s {
	case StateUploading:
		return 0
	case StateProcessing:
		return 1
	case StateFailed:
		return 2
	}
	return 3
}

func (q *queueWindow) reloadHistory() {
	q.history = q.u.opts.Engine.History()
	q.historyList.Refresh()
}

// update applies an engine event: progress in place, anything else reloads.
func (q *queueWindow) update(ev Event) {
	switch ev.Kind {
	case Progress:
		for i := range q.jobs {
			if q.jobs[i].ID == ev.Job {
				q.jobs[i].State, q.jobs[i].Sent, q.jobs[i].Total = StateUploading, ev.Sent, ev.Total
				q.jobList.RefreshItem(i)
				return
			}
		}
		q.reload()
	case Uploaded:
		q.reload()
		q.reloadHistory()
	case WatchChanged:
	default:
		q.reload()
	}
}

// Job rows: icon | name with retry and cancel on its line, then the state
// or reason and the progress. The buttons are on the name's line so they
// line up with it instead of floating in the middle of the row.
type jobRow struct {
	icon          *widget.Icon
	name, state   *widget.Label
	bar           *widget.ProgressBar
	retry, cancel *widget.Button
}

func newJobRow() fyne.CanvasObject {
	name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	state := widget.NewLabel("")
	state.Wrapping = fyne.TextWrapWord
	bar := widget.NewProgressBar()
	retry := widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), nil)
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), nil)
	first := container.NewBorder(nil, nil, nil, container.NewHBox(retry, cancel), name)
	return container.NewBorder(nil, nil, iconBox(widget.NewIcon(theme.FileIcon())), nil,
		container.NewVBox(first, state, bar))
}

// iconBox gives an icon a text line's height, so it sits level with the
// first line of its row.
func iconBox(icon *widget.Icon) fyne.CanvasObject {
	h := widget.NewLabel("").MinSize().Height
	return container.NewGridWrap(fyne.NewSize(theme.IconInlineSize(), h), container.NewCenter(icon))
}

// jobParts finds the widgets of a row made by newJobRow.
func jobParts(row *fyne.Container) jobRow {
	text := row.Objects[0].(*fyne.Container)
	first := text.Objects[0].(*fyne.Container)
	buttons := first.Objects[1].(*fyne.Container)
	iconCell := row.Objects[1].(*fyne.Container).Objects[0].(*fyne.Container) // grid cell > center
	return jobRow{
		icon:   iconCell.Objects[0].(*widget.Icon),
		name:   first.Objects[0].(*widget.Label),
		state:  text.Objects[1].(*widget.Label),
		bar:    text.Objects[2].(*widget.ProgressBar),
		retry:  buttons.Objects[0].(*widget.Button),
		cancel: buttons.Objects[1].(*widget.Button),
	}
}

func (q *queueWindow) bindJob(j Job, row *fyne.Container) {
	p := jobParts(row)
	name, state, bar, icon, retry, cancel := p.name, p.state, p.bar, p.icon, p.retry, p.cancel

	icon.SetResource(fileIcon(j.Path))
	name.SetText(filepath.Base(j.Path))
	msg := j.State.String()
	state.Importance = widget.LowImportance
	if j.State == StateFailed {
		msg = j.Reason
		if j.Retrying {
			msg += " Retrying"
			if !j.NextTry.IsZero() {
				msg += " at " + j.NextTry.Format("15:04:05")
			}
			msg += "."
		}
		state.Importance = widget.DangerImportance
	}
	state.SetText(msg)
	if j.State == StateUploading && j.Total > 0 {
		bar.SetValue(float64(j.Sent) / float64(j.Total))
		bar.Show()
	} else {
		bar.Hide()
	}
	id := j.ID
	retry.OnTapped = func() { q.u.retryJob(id) }
	if j.State == StateFailed {
		retry.Show()
		cancel.SetText("Remove")
		cancel.SetIcon(theme.DeleteIcon())
	} else {
		retry.Hide()
		cancel.SetText("Cancel")
		cancel.SetIcon(theme.CancelIcon())
	}
	cancel.OnTapped = func() { q.u.cancelJob(id) }
}

func (q *queueWindow) doRetryAll() {
	q.u.goBackground(func(context.Context) func() {
		q.u.opts.Engine.RetryAll()
		return q.reload
	})
}

// History rows: thumbnail | name, time, show file, delete
//
//	| link, copy, open
//
// Each line's buttons act on what is on that line: the file, or its link.
const thumbSize = 48

type historyRow struct {
	thumb                             *canvas.Image
	name, when                        *widget.Label
	link                              *widget.Hyperlink
	copyBtn, openBtn, showBtn, delBtn *widget.Button
}

func newHistoryRow() fyne.CanvasObject {
	thumb := canvas.NewImageFromResource(theme.FileImageIcon())
	thumb.FillMode = canvas.ImageFillContain
	thumb.ScaleMode = canvas.ImageScaleFastest
	name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	link := widget.NewHyperlink("", nil)
	link.Truncation = fyne.TextTruncateEllipsis
	when := widget.NewLabel("")
	when.Importance = widget.LowImportance
	fileButtons := container.NewHBox(
		widget.NewButtonWithIcon("", theme.FolderOpenIcon(), nil),
		widget.NewButtonWithIcon("", theme.DeleteIcon(), nil),
	)
	linkButtons := container.NewHBox(
		widget.NewButtonWithIcon("", theme.ContentCopyIcon(), nil),
		widget.NewButton(OpenLinkLabel, nil),
	)
	for _, box := range []*fyne.Container{fileButtons, linkButtons} {
		for _, o := range box.Objects {
			o.(*widget.Button).Importance = widget.LowImportance
		}
	}
	return container.NewBorder(nil, nil,
		container.NewGridWrap(fyne.NewSquareSize(thumbSize), thumb), nil,
		container.NewVBox(
			container.NewBorder(nil, nil, nil, container.NewHBox(when, fileButtons), name),
			container.NewBorder(nil, nil, nil, linkButtons, link)))
}

// historyParts finds the widgets of a row made by newHistoryRow.
func historyParts(row *fyne.Container) historyRow {
	text := row.Objects[0].(*fyne.Container)
	first, second := text.Objects[0].(*fyne.Container), text.Objects[1].(*fyne.Container)
	right := first.Objects[1].(*fyne.Container)
	fileButtons := right.Objects[1].(*fyne.Container).Objects
	linkButtons := second.Objects[1].(*fyne.Container).Objects
	return historyRow{
		thumb:   row.Objects[1].(*fyne.Container).Objects[0].(*canvas.Image),
		name:    first.Objects[0].(*widget.Label),
		when:    right.Objects[0].(*widget.Label),
		link:    second.Objects[0].(*widget.Hyperlink),
		copyBtn: linkButtons[0].(*widget.Button),
		openBtn: linkButtons[1].(*widget.Button),
		showBtn: fileButtons[0].(*widget.Button),
		delBtn:  fileButtons[1].(*widget.Button),
	}
}

func (q *queueWindow) bindHistory(r Record, row *fyne.Container) {
	p := historyParts(row)
	name, when, link, thumb := p.name, p.when, p.link, p.thumb
	copyBtn, openBtn, showBtn, delBtn := p.copyBtn, p.openBtn, p.showBtn, p.delBtn

	label := r.Name
	if label == "" {
		label = filepath.Base(r.Path)
	}
	name.SetText(label)
	link.SetText(r.URL)
	link.OnTapped = func() { q.u.CopyLink(r.URL); q.flash("Link copied") }
	when.SetText(ago(r.Time))

	local := r.Path != "" && fileExists(r.Path)
	if local && isImage(r.Path) {
		if thumb.File != r.Path {
			thumb.Resource, thumb.File = nil, r.Path
			thumb.Refresh()
		}
	} else if thumb.File != "" || thumb.Resource == nil {
		thumb.File, thumb.Resource = "", fileIcon(r.Path)
		thumb.Refresh()
	}

	copyBtn.OnTapped = func() { q.u.CopyLink(r.URL); q.flash("Link copied") }
	openBtn.OnTapped = func() { q.u.OpenLink(r.URL) }
	showBtn.OnTapped = func() { q.u.ShowLocalFile(r.Path) }
	if local {
		showBtn.Enable()
	} else {
		showBtn.Disable()
	}
	delBtn.OnTapped = func() { q.confirmDelete(r) }
}

func (q *queueWindow) flash(msg string) {
	q.message.Importance = widget.SuccessImportance
	q.message.SetText(msg)
	q.message.Show()
}

func (q *queueWindow) confirmDelete(r Record) {
	dialog.ShowConfirm("Delete from the server?",
		fmt.Sprintf("%s will be deleted from the server; its link stops working.\nThe local file is kept.", r.Name),
		func(ok bool) {
			if !ok {
				return
			}
			q.u.goBackground(func(ctx context.Context) func() {
				ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				err := q.u.opts.Engine.DeleteRemote(ctx, r.ID)
				return func() {
					if err != nil {
						q.message.Importance = widget.DangerImportance
						q.message.SetText(uiText("Could not delete " + r.Name + ": " + q.u.opts.Account.Explain(err)))
						q.message.Show()
						return
					}
					q.flash(r.Name + " deleted from the server")
					q.u.reloadHistory()
				}
			})
		}, q.win)
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isImage(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".png", ".jpg", ".jpeg", ".gif":
		return true
	}
	return false
}

// ago formats a time for the history list.
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute ago", "minutes ago")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour ago", "hours ago")
	}
	return t.Format("2 Jan 2006 15:04")
}
