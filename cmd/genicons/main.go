// Command genicons draws zipline-tray's icons (the app icon and one tray
// icon per state) into assets/. Run it from the module root:
//
//	go run ./cmd/genicons
//
// The icons are drawn from shapes rather than shipped as artwork so they can
// be regenerated at any size.
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

// Palette.
var (
	indigo = color.NRGBA{0x4f, 0x46, 0xe5, 0xff}
	violet = color.NRGBA{0x7c, 0x3a, 0xed, 0xff}
	blue   = color.NRGBA{0x02, 0x84, 0xc7, 0xff}
	grey   = color.NRGBA{0x6b, 0x72, 0x80, 0xff}
	orange = color.NRGBA{0xf5, 0x9e, 0x0b, 0xff}
	green  = color.NRGBA{0x10, 0xb9, 0x81, 0xff}
	slate  = color.NRGBA{0x37, 0x41, 0x51, 0xff}
	white  = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// A shape reports whether the point (x, y), in units of the icon's side
// (0..1), is inside it.
type shape func(x, y float64) bool

func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
}

func polygon(pts ...[2]float64) shape {
	return func(x, y float64) bool {
		in := false
		for i, j := 0, len(pts)-1; i < len(pts); j, i = i, i+1 {
			xi, yi, xj, yj := pts[i][0], pts[i][1], pts[j][0], pts[j][1]
			if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
				in = !in
			}
		}
		return in
	}
}

func union(s ...shape) shape {
	return func(x, y float64) bool {
		for _, f := range s {
			if f(x, y) {
				return true
			}
		}
		return false
	}
}

// layer is a shape painted in a colour; gradient, when set, blends from
// the colour (top left) to gradient (bottom right).
type layer struct {
	s        shape
	c        color.NRGBA
	gradient *color.NRGBA
}

// draw renders layers at size×size with 4×4 supersampling.
func draw(size int, layers []layer) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					var cr, cg, cb, ca float64
					for _, l := range layers {
						if !l.s(x, y) {
							continue
						}
						c := l.c
						if l.gradient != nil {
							t := (x + y) / 2
							c = mix(l.c, *l.gradient, t)
						}
						// Opaque layers: the last one wins.
						cr, cg, cb, ca = float64(c.R), float64(c.G), float64(c.B), 1
					}
					r += cr * ca
					g += cg * ca
					b += cb * ca
					a += ca
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(r/a + 0.5), G: uint8(g/a + 0.5), B: uint8(b/a + 0.5),
				A: uint8(255*a/(ss*ss) + 0.5),
			})
		}
	}
	return img
}

func mix(a, b color.NRGBA, t float64) color.NRGBA {
	l := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t + 0.5) }
	return color.NRGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 0xff}
}

// arrow is the upload arrow: a head and a shaft over a "tray" line.
func arrow(cx, top, scale float64) shape {
	s := func(v float64) float64 { return v * scale }
	head := polygon(
		[2]float64{cx, top},
		[2]float64{cx + s(0.22), top + s(0.22)},
		[2]float64{cx + s(0.08), top + s(0.22)},
		[2]float64{cx + s(0.08), top + s(0.44)},
		[2]float64{cx - s(0.08), top + s(0.44)},
		[2]float64{cx - s(0.08), top + s(0.22)},
		[2]float64{cx - s(0.22), top + s(0.22)},
	)
	base := roundRect(cx-s(0.24), top+s(0.52), cx+s(0.24), top+s(0.6), s(0.04))
	return union(head, base)
}

// badge draws a small disc with a border ring in the bottom-right corner.
func badge(c color.NRGBA, mark shape) []layer {
	ls := []layer{
		{s: circle(0.76, 0.76, 0.24), c: white},
		{s: circle(0.76, 0.76, 0.2), c: c},
	}
	if mark != nil {
		ls = append(ls, layer{s: mark, c: white})
	}
	return ls
}

func icon(bg, bg2 color.NRGBA, withBadge []layer, arrowCX, arrowTop, arrowScale float64) []layer {
	ls := []layer{
		{s: roundRect(0.04, 0.04, 0.96, 0.96, 0.22), c: bg, gradient: &bg2},
		{s: arrow(arrowCX, arrowTop, arrowScale), c: white},
	}
	return append(ls, withBadge...)
}

func main() {
	dir := "assets"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	pause := union(roundRect(0.685, 0.66, 0.735, 0.86, 0.015), roundRect(0.785, 0.66, 0.835, 0.86, 0.015))
	bang := union(roundRect(0.735, 0.64, 0.785, 0.80, 0.02), circle(0.76, 0.85, 0.03))
	// Three dots: "busy".
	dots := union(circle(0.68, 0.76, 0.035), circle(0.76, 0.76, 0.035), circle(0.84, 0.76, 0.035))

	full := icon(indigo, violet, nil, 0.5, 0.18, 1.0)
	// Tray icons leave room for the badge: the arrow moves up and left.
	icons := map[string][]layer{
		"icon.png":           full,
		"tray-idle.png":      icon(indigo, violet, nil, 0.5, 0.18, 1.0),
		"tray-uploading.png": icon(blue, indigo, badge(green, dots), 0.42, 0.14, 0.9),
		"tray-paused.png":    icon(grey, grey, badge(slate, pause), 0.42, 0.14, 0.9),
		"tray-signin.png":    icon(indigo, violet, badge(orange, bang), 0.42, 0.14, 0.9),
	}
	for name, ls := range icons {
		size := 64
		if name == "icon.png" {
			size = 256
		}
		if err := write(filepath.Join(dir, name), draw(size, ls)); err != nil {
			log.Fatal(err)
		}
		fmt.Println("wrote", filepath.Join(dir, name))
	}
}

func write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("genicons: %w", err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("genicons: encode %s: %w", path, err)
	}
	return f.Close()
}
