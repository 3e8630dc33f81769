// Command listeneval measures pocketsphinx settings side by side on the same recordings:
// the voice bench (`make voice-bench` builds it) and Debian's recorded voices, each
// through a listener's tap as a call would go (package evaluate), one setting per column:
// word accuracy per voice, the worst voice, verdicts right, and the real-time factor.
// `make listen-eval` runs it with today's shipped setting beside the others.
//
// A setting is NAME=MODE[,OPTION...], a pocketsphinx mode and options (sphinx.Options):
// weight=W and vocab=N, the domain model's share and the general words kept in mode mixed;
// fresh, each call starting from the warm-up's cepstral mean; unadapted, Debian's acoustic
// model without the telephone line's transform (model/telephone.mllr); nbest=N, alternatives handed
// to the detector (default sphinx.DefaultAlternatives; nbest=0 for none, as shipped until
// 2026-12); up=U, the tap's upsampling (speech.Upsampling); and last, pocketsphinx's
// own arguments (-vad_threshold,3,...).
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/listen/evaluate"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/score"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

type settings []string

func (s *settings) String() string     { return strings.Join(*s, " ") }
func (s *settings) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var ss settings
	flag.Var(&ss, "setting", "NAME=MODE[,WEIGHT][,-ARG,VALUE...] (repeatable; the first is the baseline)")
	bench := flag.String("bench", "artifacts/voice-bench", "the voice bench (VOICE/SCRIPT@LINE.wav with .txt)")
	real := flag.String("real", "artifacts/real-voices", "real recordings (SET/NAME.wav with .txt); empty to skip")
	only := flag.String("only", "", "evaluate only files whose name matches this regular expression")
	out := flag.String("out", "artifacts/listen-eval", "where each setting's full report is written")
	jobs := flag.Int("jobs", 2, "settings measured at once")
	flag.Parse()
	if len(ss) == 0 {
		ss = settings{"shipped=domain"}
	}
	if err := run(ss, *bench, *real, *only, *out, *jobs); err != nil {
		fmt.Fprintln(os.Stderr, "listeneval:", err)
		os.Exit(1)
	}
}

type setting struct {
	name string
	opts sphinx.Options
	up   speech.Upsampling
}

func parse(spec string) (setting, error) {
	name, rest, ok := strings.Cut(spec, "=")
	if !ok || name == "" {
		return setting{}, fmt.Errorf("setting %q: want NAME=MODE[,OPTION...]", spec)
	}
	parts := strings.Split(rest, ",")
	s := setting{name: name, opts: sphinx.Options{Mode: sphinx.Mode(parts[0]), Decoders: 1}}
	for i := 1; i < len(parts); i++ {
		p := parts[i]
		key, val, _ := strings.Cut(p, "=")
		var err error
		switch {
		case strings.HasPrefix(p, "-"): // pocketsphinx's own arguments, to the end
			s.opts.Args = parts[i:]
			return s, nil
		case p == "fresh":
			s.opts.FreshMean = true
		case p == "unadapted":
			s.opts.Unadapted = true
		case key == "weight":
			s.opts.DomainWeight, err = strconv.ParseFloat(val, 64)
		case key == "vocab":
			s.opts.Vocabulary, err = strconv.Atoi(val)
		case key == "nbest":
			if s.opts.Alternatives, err = strconv.Atoi(val); s.opts.Alternatives == 0 {
				s.opts.Alternatives = -1 // none (0 is sphinx's default)
			}
		case key == "up":
			s.up, err = speech.ParseUpsampling(val)
		default:
			err = fmt.Errorf("unknown option %q", p)
		}
		if err != nil {
			return setting{}, fmt.Errorf("setting %q: %w", spec, err)
		}
	}
	return s, nil
}

type set struct {
	name string
	recs []evaluate.Recording
}

func run(specs []string, bench, real, only, out string, jobs int) error {
	match, err := regexp.Compile(only)
	if err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	var sets []set
	for _, d := range []struct{ name, dir string }{{"bench", bench}, {"real", real}} {
		if d.dir == "" {
			continue
		}
		recs, err := evaluate.Find(d.dir)
		if err != nil {
			return fmt.Errorf("%w (make voice-bench builds it)", err)
		}
		var keep []evaluate.Recording
		for _, r := range recs {
			if match.MatchString(r.Name) {
				keep = append(keep, r)
			}
		}
		sets = append(sets, set{d.name, keep})
	}
	var ss []setting
	for _, spec := range specs {
		s, err := parse(spec)
		if err != nil {
			return err
		}
		ss = append(ss, s)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	results := make([][][]evaluate.Result, len(ss)) // setting, set, recording
	errs := make([]error, len(ss))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = measure(s, sets, out)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for si, st := range sets {
		fmt.Printf("\n== %s: %d recordings\n%-36s", st.name, len(st.recs), "word accuracy")
		for _, s := range ss {
			fmt.Printf(" %12s", s.name)
		}
		fmt.Println()
		var groups []string
		for _, sum := range evaluate.Summarise(results[0][si], func(r evaluate.Result) string { return r.Voice }) {
			groups = append(groups, sum.Name)
		}
		row := func(label string, cell func(rs []evaluate.Result) string) {
			fmt.Printf("%-36s", label)
			for i := range ss {
				fmt.Printf(" %12s", cell(results[i][si]))
			}
			fmt.Println()
		}
		for _, g := range groups {
			row(g, func(rs []evaluate.Result) string {
				for _, sum := range evaluate.Summarise(rs, func(r evaluate.Result) string { return r.Voice }) {
					if sum.Name == g {
						return pct(sum.Tally.Accuracy())
					}
				}
				return "-"
			})
		}
		all := func(rs []evaluate.Result) evaluate.Summary {
			return evaluate.Summarise(rs, func(evaluate.Result) string { return "" })[0]
		}
		row("overall", func(rs []evaluate.Result) string { return pct(all(rs).Tally.Accuracy()) })
		row("worst voice", func(rs []evaluate.Result) string {
			worst := 2.0
			for _, sum := range evaluate.Summarise(rs, func(r evaluate.Result) string { return r.Voice }) {
				worst = min(worst, sum.Tally.Accuracy())
			}
			return pct(worst)
		})
		for _, line := range []string{"clean", "snr30", "snr20"} {
			row("line "+line, func(rs []evaluate.Result) string {
				var t score.Tally
				for _, r := range rs {
					if r.Line == line && r.Err == nil {
						t.Errors += r.Errors
						t.Words += r.Words
					}
				}
				if t.Words == 0 {
					return "-"
				}
				return pct(t.Accuracy())
			})
		}
		row("verdicts right", func(rs []evaluate.Result) string {
			a := all(rs)
			if a.Judged == 0 {
				return "-"
			}
			return fmt.Sprintf("%d/%d", a.Right, a.Judged)
		})
		row("scams missed / benign flagged", func(rs []evaluate.Result) string {
			var miss, fp int
			for _, r := range rs {
				switch {
				case r.Err != nil || r.Label == "":
				case r.Label == "scam" && r.Verdict != "scam":
					miss++
				case r.Label == "benign" && r.Verdict == "scam":
					fp++
				}
			}
			return fmt.Sprintf("%d / %d", miss, fp)
		})
		row("real-time factor, wall", func(rs []evaluate.Result) string {
			a := all(rs)
			return fmt.Sprintf("%.3f", a.Busy.Seconds()/a.Audio.Seconds())
		})
		if jobs == 1 {
			row("cores per call (processor)", func(rs []evaluate.Result) string {
				a := all(rs)
				return fmt.Sprintf("%.3f", a.CPU.Seconds()/a.Audio.Seconds())
			})
		}
		row("failed", func(rs []evaluate.Result) string { return strconv.Itoa(all(rs).Failed) })
	}
	fmt.Println()
	for _, s := range ss {
		fmt.Printf("%s: %s, weight %v, vocabulary %d, alternatives %d, upsampling %s, %v (full report: %s)\n", s.name, s.opts.Mode, s.opts.DomainWeight, s.opts.Vocabulary, s.opts.Alternatives, s.up, s.opts.Args, filepath.Join(out, s.name+".txt"))
	}
	return nil
}

func measure(s setting, sets []set, out string) ([][]evaluate.Result, error) {
	rec, err := sphinx.New(s.opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	defer rec.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := listen.New(rec, detect.New(), listen.DefaultPolicy, listen.NoMetrics{}, quiet)
	l.SetUpsampling(s.up)
	f, err := os.Create(filepath.Join(out, s.name+".txt"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var res [][]evaluate.Result
	for _, st := range sets {
		rs := evaluate.Run(l, st.recs, nil)
		fmt.Fprintf(f, "== %s (%s)\n", st.name, rec.Name())
		evaluate.Write(f, rs)
		fmt.Fprintln(f)
		res = append(res, rs)
	}
	return res, nil
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
