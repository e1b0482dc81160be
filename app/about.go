package app

import (
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// AboutTitle is the About window's title.
const AboutTitle = "About Zipline Tray"

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
		where := widget.NewLabelWithStyle(u.opts.LogFile, fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
		where.Importance = widget.LowImportance
		where.Wrapping = fyne.TextWrapBreak
		items = append(items, widget.NewSeparator(), where, container.NewCenter(logs))
	}
	w.SetContent(container.NewPadded(container.NewVBox(items...)))
	w.Resize(fyne.NewSize(380, 0))
	w.Show()
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
