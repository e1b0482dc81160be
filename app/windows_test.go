package app

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/zipline-tray/zipline-tray/auth"
)

func signedIn() *fakeAccount {
	return &fakeAccount{server: "https://z.example.com", user: "alice"}
}

func TestDropZoneQueuesDroppedFiles(t *testing.T) {
	h := newHarness(t, signedIn())
	dir := t.TempDir()
	a := filepath.Join(dir, "shot one.png")
	b := filepath.Join(dir, "notes.txt")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, tinyPNG(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	web, _ := storage.ParseURI("https://example.com/x.png")
	h.ui.drop.dropped([]fyne.URI{storage.NewFileURI(a), web, storage.NewFileURI(b)})

	h.loop.until(t, "two rows", func() bool { return len(h.ui.drop.order) == 2 })
	enq, _, _, _ := h.engine.snapshot()
	if !slices.Equal(enq, []string{a, b}) {
		t.Fatalf("enqueued %q, want the two local files", enq)
	}
	row := h.ui.drop.items["job1"]
	if row.name.Text != "shot one.png" || row.status.Text != "Waiting…" {
		t.Errorf("row = %q / %q", row.name.Text, row.status.Text)
	}

	// Progress, then the link; tapping the link copies it.
	h.engine.events <- Event{Kind: Progress, Job: "job1", Path: a, Sent: 50, Total: 200}
	h.loop.until(t, "progress", func() bool { return row.bar.Visible() && row.bar.Value == 0.25 })
	if !row.cancel.Visible() {
		t.Error("no cancel button while uploading")
	}
	test.Tap(row.cancel)
	h.loop.until(t, "cancelled", func() bool { return row.status.Text == "Cancelled" })
	if _, _, c, _ := h.engine.snapshot(); !slices.Equal(c, []string{"job1"}) {
		t.Errorf("cancels = %q", c)
	}

	h.engine.events <- Event{Kind: Uploaded, Job: "job2", Path: b, URL: "https://z.example.com/u/n.txt"}
	row2 := h.ui.drop.items["job2"]
	h.loop.until(t, "link", func() bool { return row2.link.Visible() && row2.link.Text == "https://z.example.com/u/n.txt" })
	row2.link.OnTapped()
	if got := h.app.Clipboard().Content(); got != "https://z.example.com/u/n.txt" {
		t.Errorf("clipboard = %q", got)
	}

	// A 401 while a file uploads: it waits for the sign-in.
	h.ui.drop.dropped(fileURIs(a))
	h.loop.until(t, "third row", func() bool { return h.ui.drop.items["job3"] != nil })
	h.engine.events <- Event{Kind: Progress, Job: "job3", Path: a, Sent: 1, Total: 2}
	h.engine.events <- Event{Kind: AuthRequired}
	row3 := h.ui.drop.items["job3"]
	h.loop.until(t, "waiting for sign-in", func() bool { return row3.status.Text == "Waiting for you to sign in again" && !row3.bar.Visible() })
	if !h.ui.drop.banner.Visible() {
		t.Error("no sign-in banner")
	}

	// A .sxcu file is not uploaded; it gets a message (import is issue 6).
	sx := filepath.Join(dir, "zipline.sxcu")
	os.WriteFile(sx, []byte("{}"), 0o600)
	h.ui.drop.dropped([]fyne.URI{storage.NewFileURI(sx)})
	if !h.ui.drop.noteLabel.Visible() || !strings.Contains(h.ui.drop.noteLabel.Text, "ShareX") {
		t.Errorf("note = %q", h.ui.drop.noteLabel.Text)
	}
	if enq, _, _, _ := h.engine.snapshot(); len(enq) != 3 {
		t.Errorf("the .sxcu file was queued: %q", enq)
	}
}

func TestDropZoneClipboardImage(t *testing.T) {
	var got []string
	img := filepath.Join(t.TempDir(), "clip.png")
	calls := 0
	h := newHarness(t, signedIn(), func(o *Options) {
		o.ClipboardImage = func(ctx context.Context, dir string) (string, error) {
			calls++
			if calls == 1 {
				return "", ErrNoClipboardImage
			}
			got = append(got, dir)
			return img, nil
		}
	})
	h.ui.UploadClipboardImage()
	h.loop.until(t, "no image message", func() bool {
		return h.ui.drop.noteLabel.Visible() && strings.Contains(h.ui.drop.noteLabel.Text, "no image on the clipboard")
	})
	h.ui.UploadClipboardImage()
	h.loop.until(t, "queued", func() bool {
		enq, _, _, _ := h.engine.snapshot()
		return len(enq) == 1 && enq[0] == img
	})
	h.loop.until(t, "note hidden", func() bool { return !h.ui.drop.noteLabel.Visible() })
}

func TestQueueWindowRetryAndCancel(t *testing.T) {
	h := newHarness(t, signedIn())
	h.engine.mu.Lock()
	h.engine.jobs = []Job{
		{ID: "1", Path: "/p/a.png", State: StateQueued},
		{ID: "2", Path: "/p/b.png", State: StateFailed, Reason: "The file is larger than the server allows (100 MB)."},
	}
	h.engine.mu.Unlock()
	h.ui.ShowQueue()
	q := h.ui.queue
	if len(q.jobs) != 2 || q.jobs[0].ID != "2" {
		t.Fatalf("jobs = %+v, want the failed one first", q.jobs)
	}
	if !strings.Contains(q.jobSummary.Text, "1 failed") || q.retryAll.Disabled() {
		t.Errorf("summary %q, retry all disabled=%v", q.jobSummary.Text, q.retryAll.Disabled())
	}

	test.Tap(q.retryAll)
	h.loop.until(t, "retry all", func() bool {
		h.engine.mu.Lock()
		defer h.engine.mu.Unlock()
		return h.engine.retryAll == 1
	})

	// The failed row shows its reason, Retry and Remove.
	row := test.WidgetRenderer(q.jobList)
	_ = row
	failed := newJobRow().(*fyne.Container)
	q.bindJob(q.jobs[0], failed)
	parts := jobParts(failed)
	if parts.state.Text != q.jobs[0].Reason {
		t.Errorf("state = %q", parts.state.Text)
	}
	retry, remove := parts.retry, parts.cancel
	if !retry.Visible() || remove.Text != "Remove" {
		t.Error("no Retry and Remove on a failed job")
	}
	test.Tap(retry)
	h.loop.until(t, "retried", func() bool {
		_, r, _, _ := h.engine.snapshot()
		return slices.Equal(r, []string{"2"})
	})
	h.loop.until(t, "list reloaded", func() bool { return !strings.Contains(q.jobSummary.Text, "failed") })

	test.Tap(remove)
	h.loop.until(t, "removed", func() bool { return len(q.jobs) == 1 })
	if _, _, c, _ := h.engine.snapshot(); !slices.Equal(c, []string{"2"}) {
		t.Errorf("cancels = %q", c)
	}
}

func TestQueueWindowHistory(t *testing.T) {
	h := newHarness(t, signedIn())
	local := filepath.Join(t.TempDir(), "a.png")
	os.WriteFile(local, tinyPNG(), 0o600)
	h.engine.mu.Lock()
	h.engine.history = []Record{
		{ID: "h1", Path: local, Name: "a.png", URL: "https://z.example.com/u/a.png", Time: time.Now()},
		{ID: "h2", Path: "/gone/b.png", Name: "b.png", URL: "https://z.example.com/u/b.png", Time: time.Now().Add(-2 * time.Hour)},
	}
	h.engine.mu.Unlock()
	h.ui.ShowQueue()
	q := h.ui.queue
	if len(q.history) != 2 {
		t.Fatalf("history = %d rows", len(q.history))
	}
	row := newHistoryRow().(*fyne.Container)
	q.bindHistory(q.history[0], row)
	parts := historyParts(row)
	if parts.thumb.File != local {
		t.Errorf("thumbnail of %q, want the local file", parts.thumb.File)
	}
	if parts.openBtn.Text != OpenLinkLabel {
		t.Errorf("open button %q", parts.openBtn.Text)
	}
	test.Tap(parts.copyBtn)
	if got := h.app.Clipboard().Content(); got != "https://z.example.com/u/a.png" {
		t.Errorf("clipboard = %q", got)
	}
	// A vanished local file: "show file" is off.
	row2 := newHistoryRow().(*fyne.Container)
	q.bindHistory(q.history[1], row2)
	if !historyParts(row2).showBtn.Disabled() {
		t.Error("show local file is enabled for a file that is gone")
	}
	q.confirmDelete(q.history[1])
	// Confirm the dialog through the window's overlay.
	over := q.win.Canvas().Overlays().Top()
	if over == nil {
		t.Fatal("no confirmation")
	}
	confirmButton(t, over).OnTapped()
	h.loop.until(t, "deleted", func() bool { return len(q.history) == 1 })
	if _, _, _, d := h.engine.snapshot(); !slices.Equal(d, []string{"h2"}) {
		t.Errorf("deleted = %q", d)
	}
}

func TestSettingsSavedAndReloaded(t *testing.T) {
	h := newHarness(t, signedIn())
	dir := t.TempDir()
	h.engine.mu.Lock()
	h.engine.watching = []FolderStatus{{Path: dir, OK: true, Text: "Watching"}}
	h.engine.mu.Unlock()
	var changed *auth.Config
	h.ui.opts.SettingsChanged = func(c *auth.Config) { changed = c }

	h.ui.ShowSettings()
	s := h.ui.settingsWin
	h.loop.until(t, "server folders", func() bool { return len(s.folder.Options) == 3 })
	s.addFolder(dir)
	s.fileTypes.SetText("PNG, .jpg webp")
	s.naming.SetSelected("date")
	s.expiry.SetSelected("1 day")
	s.compress.SetSelected("80 %")
	s.maxViews.SetText("5")
	s.folder.SetSelected("Work")
	s.domain.SetSelected("cdn.example.com")
	s.original.SetChecked(true)
	s.linkFormat.SetSelected("Markdown")
	s.copyLink.SetChecked(false)
	s.notifyOK.SetChecked(false)
	s.headers.SetText("CF-Access-Client-Id: abc\nX-Test: 1")
	s.save()
	if s.message.Text != SavedMessage {
		t.Fatalf("message = %q", s.message.Text)
	}
	if changed == nil {
		t.Error("SettingsChanged not called")
	}
	c, _ := h.settings.Load()
	if len(c.Watch.Folders) != 1 || c.Watch.Folders[0].Path != dir {
		t.Errorf("folders = %+v", c.Watch.Folders)
	}
	if !slices.Equal(c.Watch.Include, []string{"png", "jpg", "webp"}) {
		t.Errorf("include = %q", c.Watch.Include)
	}
	u := c.Upload
	if u.Format != "date" || u.DeletesAt != "1d" || u.CompressionPercent == nil || *u.CompressionPercent != 80 ||
		u.MaxViews != 5 || u.Folder != "f2" || u.Domain != "cdn.example.com" || !u.OriginalName {
		t.Errorf("upload = %+v", u)
	}
	if c.Links.Format != auth.LinkMarkdown || c.Links.Copy || c.Notify.OnSuccess || !c.Notify.OnFailure {
		t.Errorf("links %+v notify %+v", c.Links, c.Notify)
	}
	if c.Headers["CF-Access-Client-Id"] != "abc" || c.Headers["X-Test"] != "1" {
		t.Errorf("headers = %v", c.Headers)
	}

	// Reopen: the form shows what was saved, with the watcher's status.
	s.win.Close()
	h.ui.ShowSettings()
	s = h.ui.settingsWin
	h.loop.until(t, "folder selected", func() bool { return s.folder.Selected == "Work" })
	if s.naming.Selected != "date" || s.expiry.Selected != "1 day" || s.maxViews.Text != "5" ||
		s.linkFormat.Selected != "Markdown" || s.copyLink.Checked || s.domain.Selected != "cdn.example.com" {
		t.Errorf("reloaded form differs: naming %q expiry %q views %q link %q", s.naming.Selected, s.expiry.Selected, s.maxViews.Text, s.linkFormat.Selected)
	}
	if !strings.Contains(test.RenderObjectToMarkup(s.folders), "Watching") {
		t.Error("the folder's live status is not shown")
	}

	// Bad input is refused with a message and nothing saved.
	saves := h.settings.saves
	s.maxViews.SetText("many")
	s.save()
	if !strings.Contains(s.message.Text, "Max views") || h.settings.saves != saves {
		t.Errorf("message %q, saves %d→%d", s.message.Text, saves, h.settings.saves)
	}
	s.maxViews.SetText("")
	s.headers.SetText("Authorization: x")
	s.save()
	if !strings.Contains(s.message.Text, "Authorization") {
		t.Errorf("message = %q", s.message.Text)
	}
}

func TestNotificationsCoalesce(t *testing.T) {
	h := newHarness(t, signedIn())
	h.ui.settings.Notify.OnSuccess = true
	h.ui.settings.Links.Copy = true
	for i, name := range []string{"a.png", "b.png", "c.png"} {
		h.engine.events <- Event{Kind: Uploaded, Job: string(rune('1' + i)), Path: "/p/" + name, URL: "https://z/u/" + name}
	}
	h.loop.until(t, "one notification", func() bool { return len(h.notes.all()) == 1 })
	n := h.notes.all()[0]
	if n.Title != "3 links copied" || !strings.Contains(n.Body, "c.png") {
		t.Errorf("note = %+v", n)
	}
	if len(n.Actions) != 2 || n.Actions[1].Key != "delete" {
		t.Fatalf("actions = %+v", n.Actions)
	}
	n.OnAction("delete")
	if _, _, _, d := h.engine.snapshot(); len(d) != 3 {
		t.Errorf("deleted = %q", d)
	}

	// A failure that will not be retried is reported once.
	h.engine.events <- Event{Kind: Failed, Job: "9", Path: "/p/big.mov", Reason: "The file is too large.", Retrying: false}
	h.engine.events <- Event{Kind: Failed, Job: "8", Path: "/p/x.png", Reason: "Network down.", Retrying: true}
	h.loop.until(t, "failure notification", func() bool { return len(h.notes.all()) == 2 })
	if f := h.notes.all()[1]; f.Title != NoteUploadFailed || f.Body != "big.mov: The file is too large." {
		t.Errorf("failure note = %+v", f)
	}
	// A single success.
	h.engine.events <- Event{Kind: Uploaded, Job: "7", Path: "/p/one.png", URL: "https://z/u/one.png"}
	h.loop.until(t, "single note", func() bool { return len(h.notes.all()) == 3 })
	if n := h.notes.all()[2]; n.Title != NoteLinkCopied {
		t.Errorf("title = %q", n.Title)
	}
}

func TestNoTrayHostKeepsAWindow(t *testing.T) {
	h := newHarness(t, signedIn(), func(o *Options) { o.HasTray = false })
	found := false
	for _, w := range h.app.Driver().AllWindows() {
		if w == h.ui.drop.win {
			found = true
		}
	}
	if !found {
		t.Fatal("no drop zone window without a tray host")
	}
}

// The drop zone's rows give the file name the whole width (it was cut to
// "…p…" beside the buttons), the link buttons say what they do, and the
// account line is in normal text.
func TestDropZoneRowLayout(t *testing.T) {
	h := newHarness(t, signedIn())
	file := filepath.Join(t.TempDir(), "Screenshot From 2026-01-05 10-42-17.png")
	if err := os.WriteFile(file, tinyPNG(), 0o600); err != nil {
		t.Fatal(err)
	}
	d := h.ui.drop
	d.dropped(fileURIs(file))
	h.loop.until(t, "row", func() bool { return d.items["job1"] != nil })
	h.engine.events <- Event{Kind: Uploaded, Job: "job1", Path: file, URL: "https://z.example.com/u/abc.png"}
	it := d.items["job1"]
	h.loop.until(t, "link", func() bool { return it.openBtn.Visible() })

	d.win.Resize(fyne.NewSize(440, 560))
	d.win.Content().Refresh()
	full := fyne.MeasureText(it.name.Text, it.name.Theme().Size("text"), it.name.TextStyle)
	if got := it.name.Size().Width; got < full.Width {
		t.Errorf("name is %.0f wide, its text needs %.0f: truncated although the row has room", got, full.Width)
	}
	if it.openBtn.Text != OpenLinkLabel {
		t.Errorf("open button text = %q", it.openBtn.Text)
	}
	if d.status.Importance == widget.LowImportance || !d.statusRow.Visible() {
		t.Errorf("account line: importance %v, visible %v", d.status.Importance, d.statusRow.Visible())
	}
}

func TestHomePath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("~ is not used on Windows")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for in, want := range map[string]string{
		home:                                     "~",
		filepath.Join(home, "Pictures", "Shots"): "~/Pictures/Shots",
		home + "x/Pictures":                      home + "x/Pictures", // a sibling, not inside home
		"/srv/shots":                             "/srv/shots",
	} {
		if got := homePath(in); got != want {
			t.Errorf("homePath(%q) = %q, want %q", in, got, want)
		}
	}

	// The settings window shows a watched folder that way, and saves the
	// real path.
	h := newHarness(t, signedIn())
	h.ui.ShowSettings()
	s := h.ui.settingsWin
	s.addFolder(filepath.Join(home, "Pictures"))
	row := s.folders.Objects[0].(*fyne.Container)
	label := row.Objects[0].(*fyne.Container).Objects[0].(*widget.Label)
	if label.Text != "~/Pictures" {
		t.Errorf("folder row shows %q", label.Text)
	}
	if got := s.cfg.Watch.Folders[0].Path; got != filepath.Join(home, "Pictures") {
		t.Errorf("saved path %q", got)
	}
}

// The queue's empty state says so, and the history's buttons sit level
// with the line they act on (they used to float below the name).
func TestQueueEmptyAndRowsAligned(t *testing.T) {
	h := newHarness(t, signedIn())
	h.ui.ShowQueue()
	q := h.ui.queue
	if q.jobSummary.Text != NothingWaiting || q.retryAll.Visible() {
		t.Errorf("empty queue: summary %q, retry all visible %v", q.jobSummary.Text, q.retryAll.Visible())
	}
	if q.tabs.SelectedIndex() != 1 {
		t.Errorf("tab %d selected, want History for an empty queue", q.tabs.SelectedIndex())
	}

	centre := func(o fyne.CanvasObject) float32 {
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(o).Y + o.Size().Height/2
	}
	level := func(what string, a, b fyne.CanvasObject) {
		t.Helper()
		if d := centre(a) - centre(b); d > 2 || d < -2 {
			t.Errorf("%s: centres %.0f apart", what, d)
		}
	}

	row := newHistoryRow().(*fyne.Container)
	q.bindHistory(Record{ID: "h", Name: "a.png", URL: "https://z.example.com/u/a.png", Time: time.Now()}, row)
	w := test.NewTempWindow(t, row)
	w.Resize(fyne.NewSize(640, row.MinSize().Height))
	p := historyParts(row)
	level("delete button and name", p.delBtn, p.name)
	level("show button and name", p.showBtn, p.name)
	level("copy button and link", p.copyBtn, p.link)
	level("open button and link", p.openBtn, p.link)

	jr := newJobRow().(*fyne.Container)
	q.bindJob(Job{ID: "j", Path: "/p/a.png", State: StateFailed, Reason: "Too big."}, jr)
	w2 := test.NewTempWindow(t, jr)
	w2.Resize(fyne.NewSize(640, jr.MinSize().Height))
	jp := jobParts(jr)
	level("retry button and name", jp.retry, jp.name)
	level("file icon and name", jp.icon, jp.name)
}

// About shows the log file's path readable: normal text, ~ for the home
// folder, broken into lines only at separators; Copy path copies it whole.
func TestAboutLogPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	logFile := filepath.Join(home, ".local", "state", "zipline-tray", "logs", "zipline-tray.log")
	h := newHarness(t, signedIn(), func(o *Options) { o.LogFile = logFile })
	h.ui.ShowAbout()
	var where *widget.Label
	var copyPath *widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		case *widget.Label:
			if strings.Contains(o.Text, "zipline-tray.log") {
				where = o
			}
		case *widget.Button:
			if o.Text == "Copy path" {
				copyPath = o
			}
		}
	}
	walk(h.ui.about.Content())
	if where == nil || copyPath == nil {
		t.Fatal("no log path or no Copy path button in About")
	}
	sep := string(filepath.Separator)
	want := filepath.Join("~", ".local", "state", "zipline-tray", "logs", "zipline-tray.log")
	if runtime.GOOS == "windows" {
		want = logFile
	}
	if got := strings.ReplaceAll(where.Text, "\n", ""); got != want {
		t.Errorf("log path %q, want %q", got, want)
	}
	lines := strings.Split(where.Text, "\n")
	for _, line := range lines[:len(lines)-1] {
		if !strings.HasSuffix(line, sep) {
			t.Errorf("line break not after a separator: %q", where.Text)
		}
	}
	if where.Importance == widget.LowImportance {
		t.Error("log path in the faint low-importance colour")
	}
	test.Tap(copyPath)
	if got := h.app.Clipboard().Content(); got != logFile {
		t.Errorf("clipboard = %q", got)
	}
}

func TestBreakPath(t *testing.T) {
	style := fyne.TextStyle{}
	p := "/tmp/tmp.QkMXImx2kU/profile/state/logs/zipline-tray.log"
	wide := fyne.MeasureText(p, 14, style).Width
	if got := breakPath(p, wide+1, 14, style); got != p {
		t.Errorf("a path that fits was broken: %q", got)
	}
	got := breakPath(p, wide/2, 14, style)
	if strings.ReplaceAll(got, "\n", "") != p || !strings.Contains(got, "/\n") {
		t.Fatalf("breakPath = %q", got)
	}
	for _, line := range strings.Split(got, "\n") {
		if w := fyne.MeasureText(line, 14, style).Width; w > wide/2 {
			t.Errorf("line %q is %.0f wide, max %.0f", line, w, wide/2)
		}
	}
}
