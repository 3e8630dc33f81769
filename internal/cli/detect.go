package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/detect/garble"
)

// result is one output line of `clearline detect`.
type result struct {
	Call       string           `json:"call"`
	Verdict    detect.Verdict   `json:"verdict"`
	Risk       float64          `json:"risk"`
	Indicators []detect.Finding `json:"indicators"`
}

// runDetect scores transcripts from stdin, or evaluates a labelled file with --eval.
func runDetect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	eval := fs.String("eval", "", "labelled JSON Lines file: print precision, recall, F1, time to warning and a confusion table")
	warnAt := fs.Float64("warn-at", dash.DefaultWarnAt, "with --eval: the warning threshold the warning figures use (the guard's listening.warn_at)")
	wer := fs.Float64("wer", 0, "with --eval: first garble the words as a recogniser would, at this word error rate (0.3 for 30%)")
	dict := fs.String("dict", garble.DefaultDict, "with --wer: the pronouncing dictionary sound-alikes are drawn from")
	seed := fs.Uint64("seed", 1, "with --wer: the seed of the garbling (the same seed gives the same text)")
	part := fs.String("part", "", "with --eval: only the calls of this part of the developers' real-call file, A, B1 or B2 (see internal/detect/realdata.go)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := dash.CheckThreshold(*warnAt); err != nil {
		fmt.Fprintf(stderr, "clearline detect: --warn-at: %v\n", err)
		return 2
	}
	if *part != "" && *part != "A" && *part != "B1" && *part != "B2" {
		fmt.Fprintf(stderr, "clearline detect: --part must be A, B1 or B2, not %q\n", *part)
		return 2
	}
	if *wer < 0 || *wer > 1 {
		fmt.Fprintf(stderr, "clearline detect: --wer must be between 0 and 1, not %v\n", *wer)
		return 2
	}
	d := detect.New()
	if *eval != "" {
		return runEval(d, *eval, *part, *warnAt, *wer, *dict, *seed, stdout, stderr)
	}
	calls, errs := detect.ReadTranscripts(stdin, false)
	for _, e := range errs {
		fmt.Fprintf(stderr, "clearline detect: stdin %v\n", e)
	}
	enc := json.NewEncoder(stdout)
	for _, t := range calls {
		a := d.Assess(t)
		if a.Indicators == nil {
			a.Indicators = []detect.Finding{}
		}
		if err := enc.Encode(result{Call: t.Call, Verdict: a.Verdict, Risk: roundRisk(a.Risk), Indicators: a.Indicators}); err != nil {
			fmt.Fprintf(stderr, "clearline detect: %v\n", err)
			return 1
		}
	}
	if len(errs) > 0 {
		return 1
	}
	return 0
}

func runEval(d *detect.Detector, path, part string, warnAt, wer float64, dict string, seed uint64, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "clearline detect: %v\n", err)
		return 1
	}
	defer f.Close()
	calls, errs := detect.ReadTranscripts(f, true)
	for _, e := range errs {
		fmt.Fprintf(stderr, "clearline detect: %s: %v\n", path, e)
	}
	if part != "" {
		kept := calls[:0]
		for _, c := range calls {
			if detect.Part(c.Call) == part {
				kept = append(kept, c)
			}
		}
		calls = kept
	}
	if wer > 0 {
		df, err := os.Open(dict)
		if err != nil {
			fmt.Fprintf(stderr, "clearline detect: --wer needs a pronouncing dictionary (Debian's pocketsphinx-en-us, or --dict): %v\n", err)
			return 1
		}
		g, err := garble.Load(df)
		df.Close()
		if err != nil {
			fmt.Fprintf(stderr, "clearline detect: %s: %v\n", dict, err)
			return 1
		}
		var made garble.Counts
		for i := range calls {
			for j := range calls[i].Segments {
				s := &calls[i].Segments[j]
				var c garble.Counts
				s.Text, c = g.Garble(s.Text, wer, seed, calls[i].Call, j)
				made.Add(c)
			}
		}
		fmt.Fprintf(stdout, "words garbled as a recogniser would: word error rate %.3f asked, %.3f made over %d words (seed %d)\n",
			wer, made.WER(), made.Words, seed)
	}
	detect.Evaluate(d, calls, warnAt).Write(stdout)
	if len(errs) > 0 {
		return 1
	}
	return 0
}

func roundRisk(r float64) float64 { return float64(int(r*1000+0.5)) / 1000 }
