package guardian

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"github.com/clearline/clearline/internal/call"
)

// The charts are SVG drawn on the server: no script, nothing fetched, readable without
// colour (each series is also labelled in words beside the chart).

// riskPlot draws a call's risk after each utterance, with the household's thresholds.
func riskPlot(r *call.Risk, warnAt, alertAt float64) template.HTML {
	if r == nil || len(r.Timeline) == 0 {
		return ""
	}
	const w, h, left, bottom = 640.0, 240.0, 48.0, 28.0
	end := r.Timeline[len(r.Timeline)-1].T
	if end <= 0 {
		end = 1
	}
	x := func(t float64) float64 { return left + (w-left-12)*t/end }
	y := func(v float64) float64 { return 8 + (h-bottom-8)*(1-v) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="Risk of the call over time, from 0 to 1">`, w, h)
	for _, g := range []float64{0, 0.5, 1} {
		fmt.Fprintf(&b, `<line class="grid" x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f"/><text class="axis" x="4" y="%.1f">%.1f</text>`, left, w-12, y(g), y(g), y(g)+5, g)
	}
	for _, th := range []struct {
		v    float64
		name string
	}{{warnAt, "warn"}, {alertAt, "alert"}} {
		if th.v > 0 {
			fmt.Fprintf(&b, `<line class="threshold" x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f"/><text class="axis" x="%.0f" y="%.1f">%s %.2f</text>`,
				left, w-12, y(th.v), y(th.v), w-110, y(th.v)-4, th.name, th.v)
		}
	}
	var pts []string
	for _, p := range r.Timeline {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(p.Risk)))
	}
	fmt.Fprintf(&b, `<polyline class="risk" points="%s"/>`, strings.Join(pts, " "))
	for _, p := range r.Timeline {
		fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="5"><title>%.0fs: risk %.2f — %s</title></circle>`, x(p.T), y(p.Risk), p.T, p.Risk, html.EscapeString(p.Text))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%.0f" y="%.0f">0 s</text><text class="axis" x="%.0f" y="%.0f" text-anchor="end">%.0f s into the call</text></svg>`,
		left, h-6, w-12, h-6, end)
	return template.HTML(b.String())
}

// dayPlot draws calls per day, stacked by screening verdict.
func dayPlot(days []Day) template.HTML {
	if len(days) == 0 {
		return ""
	}
	const w, h, bottom = 640.0, 220.0, 30.0
	most := 1
	for _, d := range days {
		most = max(most, d.Allow+d.Warn+d.Screen+d.Block)
	}
	bw := (w - 20) / float64(len(days))
	scale := (h - bottom - 10) / float64(most)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="Calls per day over the last %d days, by verdict">`, w, h, len(days))
	for i, d := range days {
		x := 10 + float64(i)*bw
		base := h - bottom
		for _, part := range []struct {
			n     int
			class string
		}{{d.Allow, "allow"}, {d.Screen, "screen"}, {d.Warn, "warn"}, {d.Block, "block"}} {
			if part.n == 0 {
				continue
			}
			hh := float64(part.n) * scale
			base -= hh
			fmt.Fprintf(&b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d %s</title></rect>`,
				part.class, x+2, base, bw-4, hh, d.Date.Format("Mon 2 Jan"), part.n, part.class)
		}
		if i%2 == len(days)%2 || len(days) < 8 {
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.0f" text-anchor="middle">%s</text>`, x+bw/2, h-8, d.Date.Format("2 Jan"))
		}
	}
	fmt.Fprintf(&b, `<text class="axis" x="12" y="14">most in a day: %d</text></svg>`, most)
	return template.HTML(b.String())
}
