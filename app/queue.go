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
		q.jobSummary.SetText("Nothing waiting: every file is uploaded.")
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

// Job rows: icon | name, state/reason, progress | retry, cancel.
func newJobRow() fyne.CanvasObject {
	name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	state := widget.NewLabel("")
	state.Wrapping = fyne.TextWrapWord
	bar := widget.NewProgressBar()
	retry := widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), nil)
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), nil)
	return container.NewBorder(nil, nil, widget.NewIcon(theme.FileIcon()), container.NewHBox(retry, cancel),
		container.NewVBox(name, state, bar))
}

func (q *queueWindow) bindJob(j Job, row *fyne.Container) {
	text := row.Objects[0].(*fyne.Container)
	name, state, bar := text.Objects[0].(*widget.Label), text.Objects[1].(*widget.Label), text.Objects[2].(*widget.ProgressBar)
	icon := row.Objects[1].(*widget.Icon)
	buttons := row.Objects[2].(*fyne.Container)
	retry, cancel := buttons.Objects[0].(*widget.Button), buttons.Objects[1].(*widget.Button)

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

// History rows: thumbnail | name, link, time | copy, open, folder, delete.
const thumbSize = 48

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
	buttons := container.NewHBox(
		widget.NewButtonWithIcon("", theme.ContentCopyIcon(), nil),
		widget.NewButtonWithIcon("", theme.ComputerIcon(), nil),
		widget.NewButtonWithIcon("", theme.FolderOpenIcon(), nil),
		widget.NewButtonWithIcon("", theme.DeleteIcon(), nil),
	)
	for _, o := range buttons.Objects {
		o.(*widget.Button).Importance = widget.LowImportance
	}
	return container.NewBorder(nil, nil,
		container.NewGridWrap(fyne.NewSquareSize(thumbSize), thumb), buttons,
		container.NewVBox(container.NewBorder(nil, nil, nil, when, name), link))
}

func (q *queueWindow) bindHistory(r Record, row *fyne.Container) {
	text := row.Objects[0].(*fyne.Container)
	first := text.Objects[0].(*fyne.Container)
	name, when, link := first.Objects[0].(*widget.Label), first.Objects[1].(*widget.Label), text.Objects[1].(*widget.Hyperlink)
	thumb := row.Objects[1].(*fyne.Container).Objects[0].(*canvas.Image)
	buttons := row.Objects[2].(*fyne.Container).Objects
	copyBtn, openBtn, showBtn, delBtn := buttons[0].(*widget.Button), buttons[1].(*widget.Button), buttons[2].(*widget.Button), buttons[3].(*widget.Button)

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
