package app

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/uploader"
)

// SettingsTitle is the settings window's title.
const SettingsTitle = "Zipline Tray Settings"

// Choices offered by the settings window, label → config value.
var (
	namingChoices  = []string{"random", "uuid", "date", "name", "gfycat", "random-words"}
	expiryLabels   = []string{"Server default", "Never", "1 hour", "1 day", "1 week", "30 days"}
	expiryValues   = []string{"", "never", "1h", "1d", "7d", "30d"}
	compressLabels = []string{"Off", "90 %", "80 %", "70 %", "50 %"}
	compressValues = []int{0, 90, 80, 70, 50}
	linkLabels     = []string{"Link to the page", "Direct link to the file", "Markdown", "HTML"}
	linkValues     = []string{auth.LinkURL, auth.LinkRaw, auth.LinkMarkdown, auth.LinkHTML}
)

// SavedMessage confirms a save; everything applies to the next upload.
const SavedMessage = "Saved. The changes apply from the next upload."

const (
	serverDefault = "Server default"
	noFolder      = "No folder"
)

type settingsWindow struct {
	u   *UI
	win fyne.Window
	cfg *auth.Config // the copy being edited

	folders    *fyne.Container
	fileTypes  *widget.Entry
	naming     *widget.Select
	expiry     *widget.Select
	compress   *widget.Select
	maxViews   *widget.Entry
	folder     *widget.Select
	domain     *widget.Select
	original   *widget.Check
	linkFormat *widget.RadioGroup
	copyLink   *widget.Check
	notifyOK   *widget.Check
	notifyFail *widget.Check
	catchUp    *widget.Check
	suggested  *fyne.Container // screenshot folders not watched yet
	found      []uploader.DefaultFolder
	looked     bool
	autostart  *widget.Check
	caFile     *widget.Entry
	headers    *widget.Entry

	serverFolders []Folder
	account       *widget.Label
	accountBtn    *widget.Button
	message       *widget.Label
}

// ShowSettings opens the settings window (or raises it).
func (u *UI) ShowSettings() {
	if u.settingsWin == nil {
		u.settingsWin = newSettingsWindow(u)
	}
	u.settingsWin.win.Show()
	u.settingsWin.win.RequestFocus()
}

func cloneConfig(c *auth.Config) *auth.Config {
	n := *c
	n.Headers = maps.Clone(c.Headers)
	n.Watch.Folders = slices.Clone(c.Watch.Folders)
	n.Watch.Include = slices.Clone(c.Watch.Include)
	if c.Upload.CompressionPercent != nil {
		p := *c.Upload.CompressionPercent
		n.Upload.CompressionPercent = &p
	}
	return &n
}

func newSettingsWindow(u *UI) *settingsWindow {
	s := &settingsWindow{u: u, cfg: cloneConfig(u.settings)}
	if fresh, err := u.opts.Settings.Load(); err == nil && fresh != nil {
		s.cfg = fresh
	}
	s.win = u.app.NewWindow(SettingsTitle)
	s.win.SetIcon(AppIcon)
	s.win.SetOnClosed(func() { u.settingsWin = nil })
	c := s.cfg

	// Folders.
	s.folders = container.NewVBox()
	addFolder := widget.NewButtonWithIcon("Add folder…", theme.FolderNewIcon(), s.pickFolder)
	s.fileTypes = widget.NewMultiLineEntry()
	s.fileTypes.Wrapping = fyne.TextWrapWord
	s.fileTypes.SetMinRowsVisible(2)
	s.fileTypes.SetText(strings.Join(c.Watch.Include, ", "))
	s.fileTypes.SetPlaceHolder("All files")
	s.catchUp = widget.NewCheck("Upload files that arrived while the app was closed", nil)
	s.catchUp.SetChecked(c.Watch.CatchUp)
	s.suggested = container.NewVBox()
	s.autostart = widget.NewCheck("Start Zipline Tray when I log in", nil)
	s.autostart.SetChecked(c.Autostart)
	foldersHelp := widget.NewLabel("New files in these folders are uploaded as soon as they are complete.")
	foldersHelp.Wrapping = fyne.TextWrapWord
	foldersTab := container.NewVBox(
		foldersHelp,
		s.folders,
		container.NewHBox(addFolder),
		s.suggested,
		widget.NewSeparator(),
		widget.NewForm(widget.NewFormItem("File types", s.fileTypes)),
		s.catchUp,
		s.autostart,
	)
	s.refreshFolders()

	// Upload options.
	s.naming = widget.NewSelect(namingChoices, nil)
	s.naming.SetSelected(orDefault(c.Upload.Format, "random"))
	s.expiry = widget.NewSelect(expiryLabels, nil)
	s.expiry.SetSelectedIndex(max(slices.Index(expiryValues, c.Upload.DeletesAt), 0))
	s.compress = widget.NewSelect(compressLabels, nil)
	ci := 0
	if c.Upload.CompressionPercent != nil {
		ci = max(slices.Index(compressValues, *c.Upload.CompressionPercent), 0)
	}
	s.compress.SetSelectedIndex(ci)
	s.maxViews = widget.NewEntry()
	s.maxViews.SetPlaceHolder("Unlimited")
	if c.Upload.MaxViews > 0 {
		s.maxViews.SetText(strconv.Itoa(c.Upload.MaxViews))
	}
	s.folder = widget.NewSelect([]string{noFolder}, nil)
	s.folder.SetSelected(noFolder)
	s.domain = widget.NewSelect([]string{serverDefault}, nil)
	s.domain.SetSelected(orDefault(c.Upload.Domain, serverDefault))
	s.original = widget.NewCheck("Keep the original file name on the server", nil)
	s.original.SetChecked(c.Upload.OriginalName)
	uploadsTab := container.NewVBox(widget.NewForm(
		widget.NewFormItem("File names", s.naming),
		widget.NewFormItem("Delete after", s.expiry),
		widget.NewFormItem("Compress images", s.compress),
		widget.NewFormItem("Max views", s.maxViews),
		widget.NewFormItem("Folder", s.folder),
		widget.NewFormItem("Domain", s.domain),
	), s.original)

	// Links and behaviour.
	s.linkFormat = widget.NewRadioGroup(linkLabels, nil)
	s.linkFormat.SetSelected(linkLabels[max(slices.Index(linkValues, c.Links.Format), 0)])
	s.copyLink = widget.NewCheck("Copy the link when an upload finishes", nil)
	s.copyLink.SetChecked(c.Links.Copy)
	s.notifyOK = widget.NewCheck("Notify when uploads finish", nil)
	s.notifyOK.SetChecked(c.Notify.OnSuccess)
	s.notifyFail = widget.NewCheck("Notify when an upload fails", nil)
	s.notifyFail.SetChecked(c.Notify.OnFailure)
	behaviourTab := container.NewVBox(
		widget.NewLabelWithStyle("Link format", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		s.linkFormat,
		widget.NewSeparator(),
		s.copyLink, s.notifyOK, s.notifyFail,
	)

	// Server and account.
	s.caFile = widget.NewEntry()
	s.caFile.SetPlaceHolder("System certificates only")
	s.caFile.SetText(c.CAFile)
	browseCA := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), s.pickCA)
	s.headers = widget.NewMultiLineEntry()
	s.headers.SetPlaceHolder("CF-Access-Client-Id: …")
	s.headers.SetMinRowsVisible(3)
	s.headers.SetText(formatHeaders(c.Headers))
	s.account = widget.NewLabel("")
	s.account.Wrapping = fyne.TextWrapWord
	s.accountBtn = widget.NewButton("", nil)
	serverTab := container.NewVBox(
		widget.NewLabelWithStyle("Account", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, s.accountBtn, s.account),
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Connection", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewForm(
			widget.NewFormItem("CA file", container.NewBorder(nil, nil, nil, browseCA, s.caFile)),
			widget.NewFormItem("Extra headers", s.headers),
		),
	)
	s.refreshAccount()

	tabs := container.NewAppTabs(
		container.NewTabItemWithIcon("Folders", theme.FolderIcon(), container.NewPadded(foldersTab)),
		container.NewTabItemWithIcon("Uploads", theme.UploadIcon(), container.NewPadded(uploadsTab)),
		container.NewTabItemWithIcon("Links", theme.ContentCopyIcon(), container.NewPadded(behaviourTab)),
		container.NewTabItemWithIcon("Server", theme.StorageIcon(), container.NewPadded(serverTab)),
	)
	s.message = widget.NewLabel("")
	s.message.Wrapping = fyne.TextWrapWord
	s.message.Hide()
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), s.save)
	save.Importance = widget.HighImportance
	cancel := widget.NewButton("Close", s.win.Close)
	bottom := container.NewVBox(s.message, container.NewHBox(layout.NewSpacer(), cancel, save))
	s.win.SetContent(container.NewPadded(container.NewBorder(nil, bottom, nil, nil, tabs)))
	s.win.Resize(fyne.NewSize(560, 520))

	s.loadServerChoices()
	return s
}

// homePath shows a path inside the home folder as "~/…", the way Unix
// users write it; Windows paths are left alone (~ means nothing there).
func homePath(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || runtime.GOOS == "windows" {
		return p
	}
	home = filepath.Clean(home)
	if p == home {
		return "~"
	}
	if rest, ok := strings.CutPrefix(p, home+string(filepath.Separator)); ok && home != string(filepath.Separator) {
		return "~" + string(filepath.Separator) + rest
	}
	return p
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// refreshFolders rebuilds the watched folder rows with their live status.
func (s *settingsWindow) refreshFolders() {
	status := map[string]FolderStatus{}
	for _, f := range s.u.opts.Engine.Watching() {
		status[f.Path] = f
	}
	var rows []fyne.CanvasObject
	for i, f := range s.cfg.Watch.Folders {
		i := i
		path := widget.NewLabelWithStyle(homePath(f.Path), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		path.Truncation = fyne.TextTruncateEllipsis
		st := status[f.Path]
		text := st.Text
		if text == "" {
			text = "Saved; watched once you press Save"
		}
		state := widget.NewLabel(text)
		state.Importance = widget.SuccessImportance
		icon := widget.NewIcon(theme.ConfirmIcon())
		if !st.OK {
			state.Importance = widget.WarningImportance
			icon.SetResource(theme.WarningIcon())
		}
		sub := widget.NewCheck("Include subfolders", func(on bool) { s.cfg.Watch.Folders[i].Recursive = on })
		sub.SetChecked(f.Recursive)
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			s.cfg.Watch.Folders = slices.Delete(s.cfg.Watch.Folders, i, i+1)
			s.refreshFolders()
		})
		remove.Importance = widget.LowImportance
		rows = append(rows, container.NewBorder(nil, nil, icon, remove,
			container.NewVBox(path, container.NewHBox(state, layout.NewSpacer(), sub))))
	}
	if len(rows) == 0 {
		none := widget.NewLabelWithStyle("No folders watched yet.", fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		none.Importance = widget.LowImportance
		rows = append(rows, none)
	}
	s.folders.Objects = rows
	s.folders.Refresh()
	s.refreshSuggested()
}

// suggestFolders lists the system's screenshot folders; swappable in tests.
var suggestFolders = uploader.DefaultFolders

// refreshSuggested offers the screenshot folders not watched yet, each
// with where it was found, and an Add button.
func (s *settingsWindow) refreshSuggested() {
	if !s.looked { // once per window: it reads files, and status updates are frequent
		s.found, s.looked = suggestFolders(), true
	}
	var rows []fyne.CanvasObject
	for _, d := range s.found {
		if slices.ContainsFunc(s.cfg.Watch.Folders, func(f auth.WatchFolder) bool { return f.Path == d.Path }) {
			continue
		}
		path := widget.NewLabel(homePath(d.Path))
		path.Truncation = fyne.TextTruncateEllipsis
		src := widget.NewLabel(d.Source)
		src.SizeName = theme.SizeNameCaptionText
		src.Importance = widget.LowImportance
		src.Wrapping = fyne.TextWrapWord
		d := d
		add := widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), func() {
			s.addFolder(d.Path)
			if d.Recursive {
				s.cfg.Watch.Folders[len(s.cfg.Watch.Folders)-1].Recursive = true
				s.refreshFolders()
			}
		})
		rows = append(rows, container.NewBorder(nil, nil, nil, add, container.NewVBox(path, src)))
	}
	if len(rows) > 0 {
		rows = append([]fyne.CanvasObject{widget.NewLabelWithStyle("Suggested", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}, rows...)
	}
	s.suggested.Objects = rows
	s.suggested.Refresh()
}

// refreshStatus follows the watcher's live status.
func (s *settingsWindow) refreshStatus() { s.refreshFolders() }

func (s *settingsWindow) pickFolder() {
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			return
		}
		s.addFolder(dir.Path())
	}, s.win)
	d.Resize(fyne.NewSize(500, 420))
	d.Show()
}

// addFolder adds a watched folder unless it is there already.
func (s *settingsWindow) addFolder(path string) {
	for _, f := range s.cfg.Watch.Folders {
		if f.Path == path {
			return
		}
	}
	s.cfg.Watch.Folders = append(s.cfg.Watch.Folders, auth.WatchFolder{Path: path})
	s.refreshFolders()
}

func (s *settingsWindow) pickCA() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		s.caFile.SetText(r.URI().Path())
		r.Close()
	}, s.win)
	d.Resize(fyne.NewSize(500, 420))
	d.Show()
}

// loadServerChoices fetches the folders and domains for the selects.
func (s *settingsWindow) loadServerChoices() {
	if s.u.user == "" {
		return
	}
	acct := s.u.opts.Account
	s.u.goBackground(func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		folders, ferr := acct.Folders(ctx)
		domains, derr := acct.Domains(ctx)
		return func() {
			if s.u.settingsWin != s {
				return
			}
			if ferr == nil {
				s.serverFolders = folders
				opts := []string{noFolder}
				sel := noFolder
				for _, f := range folders {
					opts = append(opts, f.Name)
					if f.ID == s.cfg.Upload.Folder {
						sel = f.Name
					}
				}
				s.folder.SetOptions(opts)
				s.folder.SetSelected(sel)
			} else {
				s.u.log.Info("list folders", "err", ferr)
			}
			if derr == nil {
				opts := append([]string{serverDefault}, domains...)
				if d := s.cfg.Upload.Domain; d != "" && !slices.Contains(opts, d) {
					opts = append(opts, d)
				}
				s.domain.SetOptions(opts)
				s.domain.SetSelected(orDefault(s.cfg.Upload.Domain, serverDefault))
			}
		}
	})
}

func (s *settingsWindow) refreshAccount() {
	u := s.u
	switch {
	case u.user == "":
		s.account.SetText("Not signed in")
		s.accountBtn.SetText("Sign in…")
		s.accountBtn.OnTapped = u.ShowSignIn
	case u.authFailed:
		s.account.SetText(fmt.Sprintf("%s on %s: the server rejected the saved token", u.user, u.server))
		s.accountBtn.SetText("Sign in again…")
		s.accountBtn.OnTapped = u.ShowSignIn
	default:
		s.account.SetText(fmt.Sprintf("Signed in as %s on %s", u.user, u.server))
		s.accountBtn.SetText("Sign out")
		s.accountBtn.OnTapped = u.SignOut
	}
}

// collect reads the form into s.cfg; an error names the field to fix.
func (s *settingsWindow) collect() error {
	c := s.cfg
	var include []string
	for _, t := range strings.FieldsFunc(s.fileTypes.Text, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "."))
		if t != "" && !slices.Contains(include, t) {
			include = append(include, t)
		}
	}
	c.Watch.Include = include
	c.Watch.CatchUp = s.catchUp.Checked
	c.Autostart = s.autostart.Checked

	c.Upload.Format = s.naming.Selected
	c.Upload.DeletesAt = expiryValues[max(s.expiry.SelectedIndex(), 0)]
	if p := compressValues[max(s.compress.SelectedIndex(), 0)]; p > 0 {
		c.Upload.CompressionPercent = &p
	} else {
		c.Upload.CompressionPercent = nil
	}
	c.Upload.MaxViews = 0
	if v := strings.TrimSpace(s.maxViews.Text); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("Max views must be a whole number (or empty for unlimited).")
		}
		c.Upload.MaxViews = n
	}
	c.Upload.Folder = ""
	for _, f := range s.serverFolders {
		if f.Name == s.folder.Selected {
			c.Upload.Folder = f.ID
		}
	}
	if s.folder.Selected != noFolder && c.Upload.Folder == "" && s.serverFolders == nil {
		c.Upload.Folder = s.u.settings.Upload.Folder // folders not loaded: keep it
	}
	c.Upload.Domain = ""
	if d := s.domain.Selected; d != serverDefault {
		c.Upload.Domain = d
	}
	c.Upload.OriginalName = s.original.Checked

	c.Links.Format = linkValues[max(slices.Index(linkLabels, s.linkFormat.Selected), 0)]
	c.Links.Copy = s.copyLink.Checked
	c.Notify.OnSuccess = s.notifyOK.Checked
	c.Notify.OnFailure = s.notifyFail.Checked

	c.CAFile = strings.TrimSpace(s.caFile.Text)
	h, err := parseHeaders(s.headers.Text)
	if err != nil {
		return err
	}
	c.Headers = h
	return nil
}

func (s *settingsWindow) save() {
	if err := s.collect(); err != nil {
		s.showMessage(err.Error(), true)
		return
	}
	if err := s.u.opts.Settings.Save(s.cfg); err != nil {
		s.showMessage("Could not save the settings: "+s.u.opts.Account.Explain(err), true)
		return
	}
	wasOn := s.u.settings.Autostart
	s.u.settings = cloneConfig(s.cfg)
	s.showMessage(SavedMessage, false)
	s.refreshFolders()
	if s.u.opts.SettingsChanged != nil {
		s.u.opts.SettingsChanged(cloneConfig(s.cfg))
	}
	if on := s.cfg.Autostart; on != wasOn {
		s.u.ApplyAutostart(on, func(err error) { s.autostartFailed(on, err) })
	}
}

// autostartFailed puts the checkbox and the saved setting back when the
// login entry could not be changed, so both say what is really set up.
func (s *settingsWindow) autostartFailed(on bool, err error) {
	if err == nil {
		return
	}
	s.autostart.SetChecked(!on)
	s.cfg.Autostart = !on
	s.u.settings.Autostart = !on
	if c, lerr := s.u.opts.Settings.Load(); lerr == nil && c != nil {
		c.Autostart = !on
		if serr := s.u.opts.Settings.Save(c); serr != nil {
			s.u.log.Warn("save autostart", "err", serr)
		}
	}
	what := "turn off"
	if on {
		what = "turn on"
	}
	s.showMessage("Could not "+what+" starting at login: "+err.Error(), true)
}

func (s *settingsWindow) showMessage(msg string, bad bool) {
	s.message.Importance = widget.SuccessImportance
	if bad {
		s.message.Importance = widget.DangerImportance
	}
	s.message.SetText(uiText(msg))
	s.message.Show()
}

func formatHeaders(h map[string]string) string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(h)) {
		lines = append(lines, k+": "+h[k])
	}
	return strings.Join(lines, "\n")
}

// parseHeaders reads "Name: value" lines.
func parseHeaders(text string) (map[string]string, error) {
	h := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("Extra headers, line %d: write each header as \"Name: value\".", i+1)
		}
		if strings.EqualFold(k, "Authorization") {
			return nil, fmt.Errorf("Extra headers, line %d: the Authorization header carries your token and is set by the app.", i+1)
		}
		h[k] = strings.TrimSpace(v)
	}
	if len(h) == 0 {
		return nil, nil
	}
	return h, nil
}
