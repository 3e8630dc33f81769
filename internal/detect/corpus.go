package detect

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Line is one transcript segment as `clearline detect` reads it: JSON Lines with the call it
// belongs to, and for evaluation and training, the call's label and scam type.
type Line struct {
	Call    string  `json:"call"`
	Speaker string  `json:"speaker,omitempty"`
	Text    *string `json:"text"`
	// Alternatives are a recogniser's next-best readings of the same words, as
	// `clearline listen --eval DIR --heard FILE` writes them.
	Alternatives []string `json:"alternatives,omitempty"`
	T            *float64 `json:"t,omitempty"`
	Label        string   `json:"label,omitempty"`
	Type         string   `json:"type,omitempty"`
}

// Transcript is one call's segments in order, with its label when known.
type Transcript struct {
	Call     string
	Segments []Segment
	Label    string // "scam", "ok" or empty
	Type     string
}

// LineError is a line that could not be read.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// ReadTranscripts reads JSON Lines and groups them by call, in order of first appearance.
// Bad lines are returned as errors and skipped; the rest are kept. With labelled, every call
// must carry a label of "scam" or "ok" on at least one of its lines; calls without one are
// reported and left out.
func ReadTranscripts(r io.Reader, labelled bool) ([]Transcript, []LineError) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var calls []Transcript
	index := map[string]int{}
	var errs []LineError
	firstLine := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		raw := strings.TrimSpace(sc.Text())
		if raw == "" {
			continue
		}
		var l Line
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			errs = append(errs, LineError{n, fmt.Errorf("not a valid JSON object: %v", err)})
			continue
		}
		switch {
		case l.Call == "":
			errs = append(errs, LineError{n, fmt.Errorf(`missing "call"`)})
			continue
		case l.Text == nil:
			errs = append(errs, LineError{n, fmt.Errorf(`missing "text"`)})
			continue
		case l.Label != "" && l.Label != "scam" && l.Label != "ok":
			errs = append(errs, LineError{n, fmt.Errorf(`"label" must be "scam" or "ok", not %q`, l.Label)})
			continue
		}
		i, ok := index[l.Call]
		if !ok {
			i = len(calls)
			index[l.Call] = i
			firstLine[l.Call] = n
			calls = append(calls, Transcript{Call: l.Call})
		}
		t := &calls[i]
		seg := Segment{Speaker: l.Speaker, Text: *l.Text, Alternatives: l.Alternatives}
		if l.T != nil {
			seg.T = *l.T
		}
		t.Segments = append(t.Segments, seg)
		if l.Label != "" {
			t.Label = l.Label
		}
		if l.Type != "" {
			t.Type = l.Type
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, LineError{0, err})
	}
	if labelled {
		kept := calls[:0]
		for _, t := range calls {
			if t.Label == "" {
				errs = append(errs, LineError{firstLine[t.Call], fmt.Errorf("call %q has no \"label\" on any line", t.Call)})
				continue
			}
			kept = append(kept, t)
		}
		calls = kept
	}
	return calls, errs
}

// Assess runs a whole transcript through a new call and returns the final assessment.
func (d *Detector) Assess(t Transcript) Assessment {
	c := d.NewCall()
	a := c.Assessment()
	for _, s := range t.Segments {
		a = c.Feed(s)
	}
	return a
}
