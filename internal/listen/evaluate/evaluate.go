// Package evaluate measures listening on recordings whose words are known: each NAME.wav
// beside a NAME.txt (the words said) under a directory goes through a listener's tap as a
// call would (listen.Replay), and the report gives word accuracy per file, per voice and
// overall, and the detector's verdict against the label when the words file has one.
//
// Layout: DIR/VOICE/SCRIPT[@LINE].wav, where VOICE is the speaker (a subdirectory; files
// directly in DIR have voice "-") and LINE, if given, the line they came down ("clean",
// "snr20"). A words file may start with a line "# scam: what it is" or "# benign: …";
// other lines starting with # are comments, the rest is what was said.
package evaluate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/score"
	"github.com/clearline/clearline/internal/speech/wav"
)

// Recording is one file to evaluate.
type Recording struct {
	Path   string // the .wav file
	Name   string // its path under the directory, without .wav
	Voice  string
	Script string
	Line   string
	Label  string // "scam", "benign", or "" when the words file has no label
	Said   string
}

// Find lists the recordings under dir, sorted by name. A .wav without its .txt, or a
// .txt that cannot be read, is an error naming the file.
func Find(dir string) ([]Recording, error) {
	var out []Recording
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".wav") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		r := Recording{Path: p, Name: strings.TrimSuffix(filepath.ToSlash(rel), ".wav"), Voice: "-"}
		if v, rest, ok := strings.Cut(r.Name, "/"); ok {
			r.Voice = v
			r.Script = rest
		} else {
			r.Script = r.Name
		}
		r.Script, r.Line, _ = strings.Cut(r.Script, "@")
		b, err := os.ReadFile(strings.TrimSuffix(p, ".wav") + ".txt")
		if err != nil {
			return fmt.Errorf("%s: the words said: %w", p, err)
		}
		r.Label, r.Said = readWords(b)
		out = append(out, r)
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s: no NAME.wav with NAME.txt beside it", dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

func readWords(b []byte) (label, said string) {
	var words []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if c, ok := strings.CutPrefix(line, "#"); ok {
			if l, _, ok := strings.Cut(strings.TrimSpace(c), ":"); ok && (l == "scam" || l == "benign") {
				label = l
			}
			continue
		}
		if line != "" {
			words = append(words, line)
		}
	}
	return label, strings.Join(words, " ")
}

// Result is one recording's evaluation.
type Result struct {
	Recording
	Heard string // every utterance, joined
	// Utterances are what the recogniser heard, with their alternatives and times.
	Utterances []speech.Utterance
	Errors     int     // word errors against Said
	Words      int     // words said
	Verdict    string  // the detector's, at the call's highest risk
	Risk       float64 // the call's highest risk
	Audio      time.Duration
	Busy       time.Duration // wall time spent analysing
	CPU        time.Duration // processor time the process spent meanwhile (one analysis at a time: its cost)
	Err        error
}

// Right says whether a labelled recording got the right verdict: scam for a scam, not scam
// for a benign call.
func (r Result) Right() bool { return (r.Verdict == "scam") == (r.Label == "scam") }

// Run analyses each recording with l, one after another, calling done (when not nil) after
// each, for a progress line.
func Run(l *listen.Listener, recs []Recording, done func(n int, r Result)) []Result {
	out := make([]Result, 0, len(recs))
	for _, rec := range recs {
		out = append(out, One(l, rec))
		if done != nil {
			done(len(out), out[len(out)-1])
		}
	}
	return out
}

// One analyses one recording.
func One(l *listen.Listener, rec Recording) Result {
	res := Result{Recording: rec, Words: len(score.Words(rec.Said))}
	f, err := os.Open(rec.Path)
	if err != nil {
		res.Err = err
		return res
	}
	a, err := wav.Read(f)
	f.Close()
	if err != nil {
		res.Err = err
		return res
	}
	pt, g711 := listen.OnTheLine(a)
	res.Audio = time.Duration(len(g711)) * time.Second / speech.LineRate
	var heard []string
	start, cpu := time.Now(), cpuTime()
	risk, err := l.Replay(rec.Name, pt, g711, listen.Hooks{Heard: func(u speech.Utterance) {
		heard = append(heard, u.Text)
		res.Utterances = append(res.Utterances, u)
	}})
	res.Busy, res.CPU = time.Since(start), cpuTime()-cpu
	if err != nil {
		res.Err = err
		return res
	}
	res.Heard = strings.Join(heard, " ")
	res.Errors = score.Errors(score.Words(rec.Said), score.Words(res.Heard))
	res.Verdict, res.Risk = risk.Verdict, risk.Level
	return res
}

// Summary is the figures of a group of results.
type Summary struct {
	Name          string
	Files         int
	Tally         score.Tally
	Right, Judged int // verdicts right, of the labelled recordings
	Audio, Busy   time.Duration
	CPU           time.Duration
	Failed        int
}

// Summarise groups results by key (the voice, the script, the line; all of them for "").
func Summarise(rs []Result, key func(Result) string) []Summary {
	by := map[string]*Summary{}
	var names []string
	for _, r := range rs {
		k := key(r)
		s := by[k]
		if s == nil {
			s = &Summary{Name: k}
			by[k] = s
			names = append(names, k)
		}
		s.Files++
		if r.Err != nil {
			s.Failed++
			continue
		}
		s.Tally.Errors += r.Errors
		s.Tally.Words += r.Words
		s.Audio += r.Audio
		s.Busy += r.Busy
		s.CPU += r.CPU
		if r.Label != "" {
			s.Judged++
			if r.Right() {
				s.Right++
			}
		}
	}
	sort.Strings(names)
	out := make([]Summary, len(names))
	for i, n := range names {
		out[i] = *by[n]
	}
	return out
}

// Write prints the report: each file, then the summaries by voice, by line and by script,
// then overall with the worst voice.
func Write(w io.Writer, rs []Result) {
	fmt.Fprintf(w, "%-52s %6s %8s %-7s %-10s %5s\n", "file", "words", "accuracy", "label", "verdict", "risk")
	for _, r := range rs {
		if r.Err != nil {
			fmt.Fprintf(w, "%-52s failed: %v\n", r.Name, r.Err)
			continue
		}
		fmt.Fprintf(w, "%-52s %6d %7.0f%% %-7s %-10s %5.2f%s\n", r.Name, r.Words, 100*score.Accuracy(r.Errors, r.Words), dash(r.Label), r.Verdict, r.Risk, mark(r))
	}
	voices := Summarise(rs, func(r Result) string { return r.Voice })
	section(w, "voice", voices)
	if lines := Summarise(rs, func(r Result) string { return r.Line }); len(lines) > 1 {
		section(w, "line", lines)
	}
	if scripts := Summarise(rs, func(r Result) string { return r.Script }); len(scripts) > 1 && len(scripts) < len(rs) {
		section(w, "script", scripts)
	}
	all := Summarise(rs, func(Result) string { return "overall" })
	section(w, "", all)
	worst := voices[0]
	for _, v := range voices {
		if v.Tally.Accuracy() < worst.Tally.Accuracy() {
			worst = v
		}
	}
	fmt.Fprintf(w, "worst voice: %s, %.0f%% word accuracy\n", worst.Name, 100*worst.Tally.Accuracy())
	if a := all[0]; a.Audio > 0 {
		fmt.Fprintf(w, "real-time factor (analysis time / audio time, one call at a time): %.3f wall, %.3f processor\n", a.Busy.Seconds()/a.Audio.Seconds(), a.CPU.Seconds()/a.Audio.Seconds())
	}
}

func section(w io.Writer, by string, ss []Summary) {
	fmt.Fprintf(w, "\n%-36s %5s %7s %8s %15s\n", by, "files", "words", "accuracy", "verdicts right")
	for _, s := range ss {
		v := "-"
		if s.Judged > 0 {
			v = fmt.Sprintf("%d/%d %3.0f%%", s.Right, s.Judged, 100*float64(s.Right)/float64(s.Judged))
		}
		failed := ""
		if s.Failed > 0 {
			failed = fmt.Sprintf("  (%d failed)", s.Failed)
		}
		fmt.Fprintf(w, "%-36s %5d %7d %7.0f%% %15s%s\n", s.Name, s.Files, s.Tally.Words, 100*s.Tally.Accuracy(), v, failed)
	}
}

// cpuTime is the processor time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mark(r Result) string {
	if r.Label != "" && !r.Right() {
		return "  WRONG"
	}
	return ""
}

// WriteHeard writes what the recogniser heard in each recording as the detector's JSON
// Lines (detect.Line: one utterance a line, its alternatives with it, the recording's label
// as "scam" or "ok"), so that `clearline detect --eval` can replay the same readings through
// another detector without hearing the audio again. Recordings that failed are left out.
func WriteHeard(w io.Writer, rs []Result) error {
	enc := json.NewEncoder(w)
	for _, r := range rs {
		if r.Err != nil {
			continue
		}
		label := r.Label
		if label == "benign" {
			label = "ok"
		}
		for _, u := range r.Utterances {
			text, t := u.Text, u.End.Seconds()
			l := detect.Line{Call: r.Name, Speaker: "caller", Text: &text, Alternatives: u.Alternatives, T: &t, Label: label, Type: r.Script}
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
	}
	return nil
}
