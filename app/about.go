package app

import (
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// AboutTitle is the About window's title.
const AboutTitle = "About Zipline Tray"

const aboutWidth = 380

// ShowAbout shows the version and where the logs are.
func (u *UI) ShowAbout() {
	if u.about != nil {
		u.about.Show()
		u.about.RequestFocus()
		return
	}
	w := u.app.NewWindow(AboutTitle)
	w.SetIcon(AppIcon)
	w.SetOnClosed(func() { u.about = nil })
	u.about = w

	logo := canvas.NewImageFromResource(AppIcon)
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSquareSize(96))
	name := widget.NewLabelWithStyle("Zipline Tray", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	name.SizeName = theme.SizeNameHeadingText
	version := widget.NewLabelWithStyle("Version "+orDefault(u.opts.Version, "dev"), fyne.TextAlignCenter, fyne.TextStyle{})
	blurb := widget.NewLabelWithStyle("Uploads screenshots and files to your Zipline server.", fyne.TextAlignCenter, fyne.TextStyle{})
	site, _ := url.Parse("https://github.com/zipline-tray/zipline-tray")
	link := widget.NewHyperlinkWithStyle("github.com/zipline-tray/zipline-tray", site, fyne.TextAlignCenter, fyne.TextStyle{})

	items := []fyne.CanvasObject{logo, name, version, blurb, link}
	if u.opts.LogFile != "" {
		logs := widget.NewButtonWithIcon("Open logs", theme.DocumentIcon(), u.OpenLogs)
		// Normal text, broken into lines at the path's separators (Fyne
		// would break it mid-word); Copy path copies it whole.
		path := homePath(u.opts.LogFile)
		where := widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
		where.SetText(breakPath(path, aboutWidth-2*theme.Padding()-2*theme.InnerPadding(), theme.TextSize(), where.TextStyle))
		copyPath := widget.NewButtonWithIcon("Copy path", theme.ContentCopyIcon(), func() {
			u.app.Clipboard().SetContent(u.opts.LogFile)
		})
		items = append(items, widget.NewSeparator(),
			widget.NewLabelWithStyle("Log file", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
			where, container.NewCenter(container.NewHBox(logs, copyPath)))
	}
	w.SetContent(container.NewPadded(container.NewVBox(items...)))
	w.Resize(fyne.NewSize(aboutWidth, 0))
	w.Show()
}

// breakPath puts line breaks into p after path separators so that no line
// is wider than max, where it can; a longer segment gets a line of its own.
func breakPath(p string, max, size float32, style fyne.TextStyle) string {
	var parts []string
	start := 0
	for i, r := range p {
		if r == '/' || r == '\\' {
			parts = append(parts, p[start:i+1])
			start = i + 1
		}
	}
	if start < len(p) {
		parts = append(parts, p[start:])
	}
	var lines []string
	line := ""
	for _, part := range parts {
		if line != "" && fyne.MeasureText(line+part, size, style).Width > max {
			lines = append(lines, line)
			line = ""
		}
		line += part
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// ShowFatal shows a message the app cannot start past, and runs until the
// window is closed. Call it instead of Run.
func ShowFatal(a fyne.App, msg string) {
	w := a.NewWindow("Zipline Tray")
	w.SetIcon(AppIcon)
	text := widget.NewLabel(uiText(msg))
	text.Wrapping = fyne.TextWrapWord
	quit := widget.NewButton("Quit", a.Quit)
	quit.Importance = widget.HighImportance
	w.SetContent(container.NewPadded(container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), quit),
		widget.NewIcon(theme.ErrorIcon()), nil, text)))
	w.Resize(fyne.NewSize(420, 140))
	w.SetMaster()
	w.ShowAndRun()
}
