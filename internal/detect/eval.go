package detect

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// Counts is a confusion table: a call is positive when its verdict is scam (or, for the
// figures at the warning threshold, when its risk reached it).
type Counts struct {
	TP, FP, TN, FN int
}

func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }
func (c Counts) Recall() float64    { return ratio(c.TP, c.TP+c.FN) }
func (c Counts) FPRate() float64    { return ratio(c.FP, c.FP+c.TN) }
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func (c *Counts) add(scam, flagged bool) {
	switch {
	case scam && flagged:
		c.TP++
	case scam:
		c.FN++
	case flagged:
		c.FP++
	default:
		c.TN++
	}
}

// rate formats a ratio, or a dash when it has no calls to speak of.
func rate(v float64, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Report is an evaluation overall, per call type and per source.
type Report struct {
	// WarnAt is the warning threshold the Warn figures use (the guard's warn_at).
	WarnAt float64
	// Overall and ByType count scam verdicts; Warn and WarnByType count risks that reached
	// WarnAt.
	Overall, Warn      Counts
	ByType, WarnByType map[string]Counts
	// Verdicts counts each type's calls by verdict (ok, suspicious, scam).
	Verdicts map[string][3]int
	// ToWarn holds, for each type, when each scam call's risk first reached WarnAt, as a
	// share of the call (0 at its first segment, 1 at its last); calls never warned are not
	// in it.
	ToWarn map[string][]float64
}

// Evaluate scores labelled transcripts. A scam call counts as found only with a scam verdict;
// an ordinary call counts as a false positive only with a scam verdict (suspicious is a
// warning, reported in the verdict table and in the figures at warnAt).
func Evaluate(d *Detector, calls []Transcript, warnAt float64) Report {
	rep := Report{WarnAt: warnAt, ByType: map[string]Counts{}, WarnByType: map[string]Counts{}, Verdicts: map[string][3]int{}, ToWarn: map[string][]float64{}}
	for _, t := range calls {
		typ := t.Type
		if typ == "" {
			typ = t.Label
		}
		scam := t.Label == "scam"
		c := d.NewCall()
		a := c.Assessment()
		warned := -1.0
		for i, s := range t.Segments {
			a = c.Feed(s)
			if warned < 0 && a.Risk >= warnAt {
				warned = share(t.Segments, i)
			}
		}
		flagged := a.Verdict == Scam
		rep.Overall.add(scam, flagged)
		rep.Warn.add(scam, warned >= 0)
		ct, wt := rep.ByType[typ], rep.WarnByType[typ]
		ct.add(scam, flagged)
		wt.add(scam, warned >= 0)
		rep.ByType[typ], rep.WarnByType[typ] = ct, wt
		v := rep.Verdicts[typ]
		v[a.Verdict]++
		rep.Verdicts[typ] = v
		if scam && warned >= 0 {
			rep.ToWarn[typ] = append(rep.ToWarn[typ], warned)
		}
	}
	return rep
}

// share is how far into the call segment i is: by the segments' times when they have them,
// else by their count.
func share(segs []Segment, i int) float64 {
	if len(segs) < 2 {
		return 0
	}
	first, last := segs[0].T, segs[len(segs)-1].T
	if last > first {
		return (segs[i].T - first) / (last - first)
	}
	return float64(i) / float64(len(segs)-1)
}

func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2], true
	} else {
		return (s[n/2-1] + s[n/2]) / 2, true
	}
}

// source is the provenance part of a call type: "real_robo" for "real_robo_offer", "wr_star"
// for "wr_star_balance"; types without one have none.
func source(typ string) string {
	if !strings.HasPrefix(typ, "real_") && !strings.HasPrefix(typ, "wr_") {
		return ""
	}
	parts := strings.SplitN(typ, "_", 3)
	if len(parts) < 3 {
		return ""
	}
	return parts[0] + "_" + parts[1]
}

// Write prints the report as plain text.
func (r Report) Write(w io.Writer) {
	o := r.Overall
	fmt.Fprintf(w, "calls: %d (scam %d, ok %d)\n", o.TP+o.FP+o.TN+o.FN, o.TP+o.FN, o.FP+o.TN)
	fmt.Fprintf(w, "scam verdict:        precision %.3f  recall %.3f  F1 %.3f  false-positive rate %.3f\n", o.Precision(), o.Recall(), o.F1(), o.FPRate())
	wo := r.Warn
	fmt.Fprintf(w, "warning (risk %.2f): precision %.3f  recall %.3f  F1 %.3f  false-positive rate %.3f\n", r.WarnAt, wo.Precision(), wo.Recall(), wo.F1(), wo.FPRate())
	var all []float64
	for _, xs := range r.ToWarn {
		all = append(all, xs...)
	}
	if m, ok := median(all); ok {
		fmt.Fprintf(w, "time to warning: median %.0f%% of the call (%d of %d scam calls warned)\n", 100*m, len(all), o.TP+o.FN)
	}
	fmt.Fprintf(w, "\nconfusion       verdict scam   verdict not scam\n")
	fmt.Fprintf(w, "  label scam    %12d   %16d\n", o.TP, o.FN)
	fmt.Fprintf(w, "  label ok      %12d   %16d\n\n", o.FP, o.TN)

	types := make([]string, 0, len(r.ByType))
	sources := map[string][]string{}
	for t := range r.ByType {
		types = append(types, t)
		if s := source(t); s != "" {
			sources[s] = append(sources[s], t)
		}
	}
	sort.Strings(types)
	r.writeTable(w, "type", types, func(t string) []string { return []string{t} })
	if len(sources) > 1 {
		names := make([]string, 0, len(sources))
		for s := range sources {
			names = append(names, s)
		}
		sort.Strings(names)
		fmt.Fprintln(w)
		r.writeTable(w, "source", names, func(s string) []string { return sources[s] })
	}
}

// writeTable prints one row per name, each summing the types members gives.
func (r Report) writeTable(w io.Writer, head string, names []string, members func(string) []string) {
	fmt.Fprintf(w, "%-26s %5s %5s %5s %5s %7s %7s   %7s %7s %7s   %s\n", head, "TP", "FN", "FP", "TN", "recall", "FP rate", "warned", "FP warn", "to warn", "verdicts ok/suspicious/scam")
	for _, name := range names {
		var c, wc Counts
		var v [3]int
		var ttw []float64
		for _, t := range members(name) {
			ct, wt := r.ByType[t], r.WarnByType[t]
			c.TP, c.FN, c.FP, c.TN = c.TP+ct.TP, c.FN+ct.FN, c.FP+ct.FP, c.TN+ct.TN
			wc.TP, wc.FN, wc.FP, wc.TN = wc.TP+wt.TP, wc.FN+wt.FN, wc.FP+wt.FP, wc.TN+wt.TN
			for i, n := range r.Verdicts[t] {
				v[i] += n
			}
			ttw = append(ttw, r.ToWarn[t]...)
		}
		toWarn := "-"
		if m, ok := median(ttw); ok {
			toWarn = fmt.Sprintf("%.0f%%", 100*m)
		}
		fmt.Fprintf(w, "%-26s %5d %5d %5d %5d %7s %7s   %7s %7s %7s   %d/%d/%d\n", name, c.TP, c.FN, c.FP, c.TN,
			rate(c.Recall(), c.TP+c.FN), rate(c.FPRate(), c.FP+c.TN),
			rate(wc.Recall(), wc.TP+wc.FN), rate(wc.FPRate(), wc.FP+wc.TN), toWarn, v[0], v[1], v[2])
	}
}
