package analyst

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/campaign"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/web/site"
)

// tiles places districts on a tile map: one square per district at its rough position,
// column by row. It is the hub's own drawing of Hampshire and the Isle of Wight (where the
// first campaigns were seen), not boundary data: no boundaries are shipped with clearline.
// Districts not placed here are listed beside the map.
var tiles = map[string][2]int{
	"Basingstoke and Deane": {2, 0}, "Hart": {3, 0}, "Rushmoor": {4, 0},
	"Test Valley": {1, 1}, "Winchester": {2, 1}, "East Hampshire": {3, 1},
	"New Forest": {0, 2}, "Southampton": {1, 2}, "Eastleigh": {2, 2}, "Fareham": {3, 2}, "Havant": {4, 2},
	"Isle of Wight": {1, 3}, "Gosport": {3, 3}, "Portsmouth": {4, 3},
}

// tileTokens are the tiles' district tokens.
var tileTokens = func() map[string]bool {
	m := map[string]bool{}
	for n := range tiles {
		m[hub.DistrictToken(n)] = true
	}
	return m
}()

// reached maps each district to the day the campaign first reached it and its reports.
type reach struct {
	First   time.Time
	Reports int
}

func districtReach(reports []hub.Report) map[string]*reach {
	out := map[string]*reach{}
	for _, r := range reports {
		x, ok := out[r.District]
		if !ok {
			x = &reach{First: r.At}
			out[r.District] = x
		}
		x.Reports++
		if r.At.Before(x.First) {
			x.First = r.At
		}
	}
	return out
}

// districtMap draws the tile map: districts reached are shaded by how early the campaign
// got there (darkest first) and labelled with the day and their reports.
func districtMap(c campaign.Campaign, reports []hub.Report) template.HTML {
	const size, gap = 118.0, 6.0
	// Reach by district token, so "winchester" and "Winchester" light the same tile.
	re := map[string]*reach{}
	var elsewhere []string
	for d, r := range districtReach(reports) {
		k := hub.DistrictToken(d)
		if x, ok := re[k]; ok {
			x.Reports += r.Reports
			if r.First.Before(x.First) {
				x.First = r.First
			}
			continue
		}
		re[k] = r
		if _, placed := tileTokens[k]; !placed {
			elsewhere = append(elsewhere, d)
		}
	}
	span := c.Latest.Sub(c.First)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart map" viewBox="0 0 %.0f %.0f" role="img" aria-label="Map of districts the campaign reached">`, 5*(size+gap), 4*(size+gap))
	names := make([]string, 0, len(tiles))
	for n := range tiles {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		t := tiles[n]
		x, y := float64(t[0])*(size+gap), float64(t[1])*(size+gap)
		class, label := "tile", ""
		if r, ok := re[hub.DistrictToken(n)]; ok {
			stage := 3
			if span > 0 {
				stage = 1 + int(3*float64(r.First.Sub(c.First))/float64(span+1))
			}
			class = fmt.Sprintf("tile hit stage%d", stage)
			label = fmt.Sprintf("%s · %d", r.First.In(site.London).Format("2 Jan"), r.Reports)
		}
		fmt.Fprintf(&b, `<g><rect class="%s" x="%.0f" y="%.0f" width="%.0f" height="%.0f" rx="6"/>`, class, x, y, size, size)
		lines := wrap(n, 14)
		for i, l := range lines {
			fmt.Fprintf(&b, `<text class="tile-name" x="%.0f" y="%.0f">%s</text>`, x+8, y+22+float64(i)*16, html.EscapeString(l))
		}
		if label != "" {
			fmt.Fprintf(&b, `<text class="tile-hit" x="%.0f" y="%.0f">%s</text>`, x+8, y+size-12, html.EscapeString(label))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	slices.Sort(elsewhere)
	if len(elsewhere) > 0 {
		fmt.Fprintf(&b, `<p class="note">Also reached, not on this map: %s.</p>`, html.EscapeString(strings.Join(elsewhere, ", ")))
	}
	return template.HTML(b.String())
}

func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// districtDays draws the district-by-day chart: a row per district in the order reached,
// a column per day, each cell showing that day's reports there.
func districtDays(c campaign.Campaign, reports []hub.Report) template.HTML {
	if len(reports) == 0 {
		return ""
	}
	re := districtReach(reports)
	order := make([]string, 0, len(re))
	for d := range re {
		order = append(order, d)
	}
	slices.SortFunc(order, func(a, b string) int {
		if c := re[a].First.Compare(re[b].First); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	day := func(t time.Time) time.Time {
		t = t.In(site.London)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, site.London)
	}
	first, last := day(c.First), day(c.Latest)
	days := int(last.Sub(first).Hours()/24+0.5) + 1
	if days > 60 {
		first, days = last.AddDate(0, 0, -59), 60
	}
	counts := map[string][]int{}
	for _, d := range order {
		counts[d] = make([]int, days)
	}
	peak := 1
	for _, r := range reports {
		i := int(day(r.At).Sub(first).Hours()/24 + 0.5)
		if i < 0 || i >= days {
			continue
		}
		counts[r.District][i]++
		peak = max(peak, counts[r.District][i])
	}
	// Cells are wide when there are few days, so that the chart keeps a readable scale.
	const left, top, rowH = 170.0, 30.0, 26.0
	cell := min(56.0, max(14.0, 600/float64(days)))
	w := max(left+float64(days)*cell+10, 780)
	h := top + float64(len(order))*rowH + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="Reports per district per day">`, w, h)
	for i := 0; i < days; i += int(math.Ceil(50 / cell)) {
		fmt.Fprintf(&b, `<text class="axis" x="%.0f" y="18">%s</text>`, left+float64(i)*cell, first.AddDate(0, 0, i).Format("2 Jan"))
	}
	for j, d := range order {
		y := top + float64(j)*rowH
		fmt.Fprintf(&b, `<text class="axis" x="4" y="%.0f">%s</text>`, y+16, html.EscapeString(d))
		for i, n := range counts[d] {
			if n == 0 {
				continue
			}
			level := 1 + 3*(n-1)/peak
			fmt.Fprintf(&b, `<rect class="heat heat%d" x="%.0f" y="%.0f" width="%.0f" height="%.0f"><title>%s, %s: %d reports</title></rect>`,
				min(level, 3), left+float64(i)*cell, y+2, cell-2, rowH-4, html.EscapeString(d), first.AddDate(0, 0, i).Format("2 Jan"), n)
			fmt.Fprintf(&b, `<text class="heat-n" x="%.0f" y="%.0f">%d</text>`, left+float64(i)*cell+4, y+18, n)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
