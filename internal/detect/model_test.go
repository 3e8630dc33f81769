package detect

import (
	"bytes"
	"os"
	"sort"
	"testing"
	"time"
)

// The committed model is what `make model` builds from the committed corpus, byte for byte.
func TestModelRebuildsBitForBit(t *testing.T) {
	m, err := TrainFiles("../../testdata/detect/train.jsonl", "../../testdata/detect/real-train.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, modelJSON) {
		t.Fatal("internal/detect/model.json differs from a fresh training run: run `make model` and commit the result")
	}
}

// The dev split is never trained on; the detector must meet the targets on it.
func TestDevSplitTargets(t *testing.T) {
	f, err := os.Open("../../testdata/detect/dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	calls, errs := ReadTranscripts(f, true)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rep := Evaluate(New(), calls, 0.7)
	if r := rep.Overall.Recall(); r < 0.95 {
		t.Errorf("recall %.3f on the dev split; want at least 0.95", r)
	}
	if fp := rep.Overall.FPRate(); fp > 0.02 {
		t.Errorf("false-positive rate %.3f on the dev split; want at most 0.02", fp)
	}
}

func TestParseModelRejectsUnknownIndicator(t *testing.T) {
	if _, err := ParseModel([]byte(`{"bias":0,"indicators":{"telepathy":1}}`)); err == nil {
		t.Error("a model naming an unknown indicator was accepted")
	}
	if _, err := ParseModel([]byte(`{"bias":`)); err == nil {
		t.Error("truncated model accepted")
	}
}

var benchCall = []Segment{
	{Speaker: "caller", Text: "hello is that mrs harris this is detective constable ryan from the metropolitan police"},
	{Speaker: "resident", Text: "oh hello yes it is whats happened"},
	{Speaker: "caller", Text: "we have arrested a man who had your bank card and your address on him"},
	{Speaker: "caller", Text: "to check im genuine hang up and ring one oh one ill stay on the line"},
	{Speaker: "caller", Text: "the cashiers at your branch are involved so dont tell them anything"},
	{Speaker: "caller", Text: "i need you to with draw five thousand pounds in cash as evidence"},
	{Speaker: "resident", Text: "that is an awful lot of money"},
	{Speaker: "caller", Text: "a courier will come to your house this afternoon to collect it"},
	{Speaker: "caller", Text: "hello im calling from micro soft windows technical department"},
	{Speaker: "caller", Text: "your computer is sending errors and has been infected by hackers"},
	{Speaker: "caller", Text: "are you sitting in front of your computer please download any desk"},
	{Speaker: "caller", Text: "this is an important message from h m revenue and customs"},
	{Speaker: "caller", Text: "a criminal case has been filed against your name for tax fraud"},
	{Speaker: "caller", Text: "to speak to the case officer press one now"},
}

// BenchmarkFeed measures the streaming update per segment against normalising the same
// text alone (the floor any detector reading ASR text pays), and reports the p99. The
// call mixes the courier script (two of its segments the resident's, which the detector
// skips) with tech-support and tax-threat lines.
func BenchmarkFeed(b *testing.B) {
	b.Run("normalize-only", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			normalize(benchCall[i%len(benchCall)].Text)
			i++
		}
	})
	b.Run("feed", func(b *testing.B) {
		d := New()
		b.ReportAllocs()
		var c *Call
		durations := make([]time.Duration, 0, 1<<16)
		i := 0
		for b.Loop() {
			if i%len(benchCall) == 0 {
				c = d.NewCall()
			}
			start := time.Now()
			c.Feed(benchCall[i%len(benchCall)])
			if len(durations) < cap(durations) {
				durations = append(durations, time.Since(start))
			}
			i++
		}
		sort.Slice(durations, func(a, z int) bool { return durations[a] < durations[z] })
		if n := len(durations); n > 0 {
			b.ReportMetric(float64(durations[n*99/100].Microseconds()), "p99-µs/segment")
		}
		b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "segments/s")
	})
}
