package detect

import (
	"fmt"
	"io"
	"sort"
)

// Counts is a confusion table: a call is positive when its verdict is scam.
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

// Report is an evaluation overall and per call type.
type Report struct {
	Overall Counts
	ByType  map[string]Counts
	// Verdicts counts each type's calls by verdict (ok, suspicious, scam).
	Verdicts map[string][3]int
}

// Evaluate scores labelled transcripts. A scam call counts as found only with a scam verdict;
// an ordinary call counts as a false positive only with a scam verdict (suspicious is a
// warning, reported in the verdict table).
func Evaluate(d *Detector, calls []Transcript) Report {
	rep := Report{ByType: map[string]Counts{}, Verdicts: map[string][3]int{}}
	for _, t := range calls {
		a := d.Assess(t)
		typ := t.Type
		if typ == "" {
			typ = t.Label
		}
		c := rep.ByType[typ]
		flagged := a.Verdict == Scam
		switch {
		case t.Label == "scam" && flagged:
			c.TP++
			rep.Overall.TP++
		case t.Label == "scam":
			c.FN++
			rep.Overall.FN++
		case flagged:
			c.FP++
			rep.Overall.FP++
		default:
			c.TN++
			rep.Overall.TN++
		}
		rep.ByType[typ] = c
		v := rep.Verdicts[typ]
		v[a.Verdict]++
		rep.Verdicts[typ] = v
	}
	return rep
}

// Write prints the report as plain text.
func (r Report) Write(w io.Writer) {
	o := r.Overall
	fmt.Fprintf(w, "calls: %d (scam %d, ok %d)\n", o.TP+o.FP+o.TN+o.FN, o.TP+o.FN, o.FP+o.TN)
	fmt.Fprintf(w, "precision %.3f  recall %.3f  F1 %.3f  false-positive rate %.3f\n\n", o.Precision(), o.Recall(), o.F1(), o.FPRate())
	fmt.Fprintf(w, "confusion       verdict scam   verdict not scam\n")
	fmt.Fprintf(w, "  label scam    %12d   %16d\n", o.TP, o.FN)
	fmt.Fprintf(w, "  label ok      %12d   %16d\n\n", o.FP, o.TN)
	types := make([]string, 0, len(r.ByType))
	for t := range r.ByType {
		types = append(types, t)
	}
	sort.Strings(types)
	fmt.Fprintf(w, "%-22s %6s %6s %6s %6s %8s %8s   %s\n", "type", "TP", "FN", "FP", "TN", "recall", "FP rate", "verdicts ok/suspicious/scam")
	for _, t := range types {
		c, v := r.ByType[t], r.Verdicts[t]
		fmt.Fprintf(w, "%-22s %6d %6d %6d %6d %8s %8s   %d/%d/%d\n", t, c.TP, c.FN, c.FP, c.TN,
			rate(c.Recall(), c.TP+c.FN), rate(c.FPRate(), c.FP+c.TN), v[0], v[1], v[2])
	}
}
