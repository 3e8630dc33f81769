package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/listen/evaluate"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/wav"
)

// runListen is `clearline listen`: telephone recordings through the path a call's audio
// takes (G.711, the upsampler, the configured recogniser, the detector), printing what was
// heard and the verdict; with --eval, word accuracy and verdicts over a directory of
// recordings whose words are known.
func runListen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML configuration file: its listening section chooses the recogniser (default: the embedded defaults)")
	transcript := fs.Bool("transcript", false, "print only the words heard, one utterance a line")
	eval := fs.String("eval", "", "directory of NAME.wav with NAME.txt (the words said): print word accuracy per file, per voice and overall, and the verdicts")
	heard := fs.String("heard", "", "with --eval: also write what was heard, with the recogniser's alternatives, to this file as JSON Lines that `clearline detect --eval` replays")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*eval == "") == (fs.NArg() == 0) {
		fmt.Fprintln(stderr, "clearline listen: give recordings (FILE.wav ...) or --eval DIR")
		return 2
	}
	if *heard != "" && *eval == "" {
		fmt.Fprintln(stderr, "clearline listen: --heard goes with --eval DIR")
		return 2
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "clearline listen: %v\n", err)
		return 1
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	lc := cfg.Listening
	lc.Decoders = 1 // one recording at a time: each starts from the same decoder state
	rec, err := recogniser(lc, log)
	if err != nil {
		fmt.Fprintf(stderr, "clearline listen: %v\n", err)
		return 1
	}
	defer rec.Close()
	if _, none := rec.(speech.None); none {
		fmt.Fprintln(stderr, "clearline listen: no recogniser: this needs pocketsphinx (a cgo build with Debian's pocketsphinx-en-us) or listening.recogniser external")
		return 1
	}
	p := listen.Policy{Warn: lc.Warn, WarnAt: lc.WarnAt, Alert: lc.Alert, AlertAt: lc.AlertAt}
	l := listen.New(rec, detect.New(), p, listen.NoMetrics{}, log)
	if *eval != "" {
		recs, err := evaluate.Find(*eval)
		if err != nil {
			fmt.Fprintf(stderr, "clearline listen: %v\n", err)
			return 1
		}
		var heardTo *os.File // opened first: a path that cannot be written fails before the long run
		if *heard != "" {
			if heardTo, err = os.Create(*heard); err != nil {
				fmt.Fprintf(stderr, "clearline listen: %v\n", err)
				return 1
			}
		}
		fmt.Fprintf(stdout, "recogniser: %s; %d recordings in %s\n\n", rec.Name(), len(recs), *eval)
		rs := evaluate.Run(l, recs, func(n int, r evaluate.Result) {
			fmt.Fprintf(stderr, "\rclearline listen: %d of %d recordings heard (%s)\x1b[K", n, len(recs), r.Name)
			if n == len(recs) {
				fmt.Fprintln(stderr)
			}
		})
		evaluate.Write(stdout, rs)
		code := 0
		if heardTo != nil {
			err := evaluate.WriteHeard(heardTo, rs)
			if cerr := heardTo.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				fmt.Fprintf(stderr, "clearline listen: %s: %v\n", *heard, err)
				code = 1
			}
		}
		for _, r := range rs {
			if r.Err != nil {
				fmt.Fprintf(stderr, "clearline listen: %s: %v\n", r.Path, r.Err)
				code = 1
			}
		}
		return code
	}
	code := 0
	enc := json.NewEncoder(stdout)
	for _, path := range fs.Args() {
		if err := listenFile(l, path, *transcript, stdout, enc); err != nil {
			fmt.Fprintf(stderr, "clearline listen: %s: %v\n", path, err)
			code = 1
		}
	}
	return code
}

// listenFile analyses one recording and prints its utterances and the result line.
func listenFile(l *listen.Listener, path string, transcript bool, stdout io.Writer, enc *json.Encoder) error {
	f, err := os.Open(path)
	if err != nil {
		return errors.Unwrap(err) // the path is named by the caller
	}
	a, err := wav.Read(f)
	f.Close()
	if err != nil {
		return err
	}
	pt, g711 := listen.OnTheLine(a)
	if !transcript {
		fmt.Fprintf(stdout, "# %s: %.1f s, %s at %d Hz\n", path, a.Duration(), a.Encoding, a.Rate)
	}
	heard := func(u speech.Utterance) {
		if transcript {
			fmt.Fprintln(stdout, u.Text)
			return
		}
		fmt.Fprintf(stdout, "%7.2f %7.2f  %s\n", u.Start.Seconds(), u.End.Seconds(), u.Text)
	}
	r, err := l.Replay(path, pt, g711, listen.Hooks{Heard: heard})
	if err != nil {
		return err
	}
	if transcript {
		return nil
	}
	res, err := riskResult(path, r)
	if err != nil {
		return err
	}
	return enc.Encode(res)
}

// riskResult is a call's analysis as `clearline detect` prints a call: the verdict at the
// call's highest risk, as the guard records it.
func riskResult(id string, r *call.Risk) (result, error) {
	out := result{Call: id, Risk: r.Level, Indicators: []detect.Finding{}}
	if r.Verdict != "" { // empty when nothing was said: ok
		if err := out.Verdict.UnmarshalText([]byte(r.Verdict)); err != nil {
			return out, err
		}
	}
	for _, f := range r.Indicators {
		var k detect.Indicator
		if err := k.UnmarshalText([]byte(f.Kind)); err != nil {
			return out, err
		}
		out.Indicators = append(out.Indicators, detect.Finding{Kind: k, Evidence: f.Evidence, T: f.T})
	}
	return out, nil
}
