package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/clearline/clearline/internal/detect"
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
	eval := fs.String("eval", "", "labelled JSON Lines file: print precision, recall, F1 and a confusion table")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	d := detect.New()
	if *eval != "" {
		f, err := os.Open(*eval)
		if err != nil {
			fmt.Fprintf(stderr, "clearline detect: %v\n", err)
			return 1
		}
		defer f.Close()
		calls, errs := detect.ReadTranscripts(f, true)
		for _, e := range errs {
			fmt.Fprintf(stderr, "clearline detect: %s: %v\n", *eval, e)
		}
		detect.Evaluate(d, calls).Write(stdout)
		if len(errs) > 0 {
			return 1
		}
		return 0
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

func roundRisk(r float64) float64 { return float64(int(r*1000+0.5)) / 1000 }
