// Command claimeval measures how well the guard hears who a caller says they are, on the
// voice bench (internal/speech/voices) down a noisy telephone line:
//
//   - every organisation of the catalogue named in an answer to "which organisation are you
//     calling from?": the kind right (police, bank, government, company, family) and the
//     organisation itself;
//   - a control set of answers outside the grammar, which must never be heard as the police;
//   - ID numbers of four to six digits, said digit by digit, exactly right;
//   - the CPU the grammar decoder spends on an asked call's two answers, how long the guard
//     takes to ring the phones (it rings them as it asks for the ID number), and how long
//     the questions and answers take in real time.
//
// `make claim-eval` runs it; the README reports its figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/sphinx"
	"github.com/clearline/clearline/internal/speech/voices"
)

func main() {
	only := flag.String("voices", "", "comma-separated names of the bench's voices to use (default: all)")
	every := flag.Int("every", 1, "use every n-th organisation of the catalogue (0: none, nor the control set)")
	extra := flag.String("args", "", "further pocketsphinx arguments, for measuring settings")
	snr := flag.Float64("snr", 20, "the line's signal-to-noise ratio, dB")
	timed := flag.Int("timed", 12, "asked calls to play in real time, for the time before the phone rings")
	show := flag.Bool("show", false, "print every answer heard wrong")
	ids := flag.Int("ids", 20, "ID numbers to say in each voice")
	confirm := flag.String("confirm", "", "also hear each who-answer with this open recogniser (domain or general) and count an authority's claim only when it hears a word of the organisation's name")
	kinds := flag.String("only", "", "hear only these answers: ids (ID numbers), who (organisations and the control set); the line's noise is the same as in a whole run")
	flag.Parse()
	if *kinds != "" && *kinds != "ids" && *kinds != "who" {
		fmt.Fprintf(os.Stderr, "claimeval: -only %q: want ids or who\n", *kinds)
		os.Exit(2)
	}
	if err := run(*only, *kinds, *confirm, *every, *ids, strings.Fields(*extra), *snr, *timed, *show); err != nil {
		fmt.Fprintln(os.Stderr, "claimeval:", err)
		os.Exit(1)
	}
}

// answer is one spoken answer and what should be heard in it.
type answer struct {
	text    string
	grammar string
	kind    claim.Kind // for the who-question; -1 for the control set
	org     string
	id      string // for the ID question
	seed    uint64 // the line's noise: the answer's place in a whole run
}

type result struct {
	voice string
	a     answer
	h     speech.Heard
	claim claim.Claim // who-answers: the claim read from h (and confirmed, with -confirm)
	audio time.Duration
	cpu   time.Duration
}

func run(only, kinds, confirm string, every, ids int, args []string, snr float64, timed int, show bool) error {
	c := claim.Builtin()
	g, err := sphinx.NewGrammar(sphinx.GrammarOptions{Decoders: 2, Grammars: c.Grammars(), WordPenalty: claim.WordPenalties, EveryFrame: claim.EveryFrame, Words: c.Words(), Pronounce: c.Pronounce, Args: args})
	if err != nil {
		return err
	}
	defer g.Close()
	bench := voices.Bench
	if only != "" {
		bench = nil
		for _, n := range strings.Split(only, ",") {
			v, err := voices.Find(n)
			if err != nil {
				return err
			}
			bench = append(bench, v)
		}
	}
	var answers []answer
	orgs := 0
	for i, a := range whoAnswers(c) {
		if every > 0 && i%every == 0 {
			answers = append(answers, a)
			orgs++
		}
	}
	if every > 0 {
		for _, t := range control {
			answers = append(answers, answer{text: t, grammar: claim.WhoGrammar, kind: -1})
		}
	}
	answers = append(answers, idAnswers(ids)...)
	for i := range answers {
		answers[i].seed = uint64(i)
	}
	ctl := len(answers) - orgs - ids
	switch kinds {
	case "ids":
		answers, orgs, ctl = answers[len(answers)-ids:], 0, 0
	case "who":
		answers, ids = answers[:len(answers)-ids], 0
	}
	fmt.Printf("%d voices, %d answers each (%d organisations, %d outside the grammar, %d ID numbers), line SNR %.0f dB\n\n",
		len(bench), len(answers), orgs, ctl, ids, snr)
	read := func(h speech.Heard, _ []byte) (claim.Claim, error) { return c.Read(h), nil }
	if confirm != "" {
		rec, err := sphinx.New(sphinx.Options{Mode: sphinx.Mode(confirm), Decoders: 2})
		if err != nil {
			return err
		}
		defer rec.Close()
		read = func(h speech.Heard, ulaw []byte) (claim.Claim, error) {
			heard, err := openHear(rec, ulaw)
			return confirmed(c, c.Read(h), heard), err
		}
	}
	results, err := decode(g, bench, answers, snr, read)
	if err != nil {
		return err
	}
	report(bench, results, show)
	if timed > 0 {
		return timing(g, c, bench, snr, timed)
	}
	return nil
}

// decode hears every answer in every voice, two at a time, each as fast as the decoder goes;
// read gives a who-answer's claim from what the grammar heard and the answer's audio.
func decode(g speech.Grammar, bench []voices.Voice, answers []answer, snr float64, read func(speech.Heard, []byte) (claim.Claim, error)) ([]result, error) {
	type job struct{ v, a int }
	jobs := make(chan job)
	out := make(chan result)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for j := range jobs {
				v, a := bench[j.v], answers[j.a]
				sp, err := v.Speak(voices.Line{SNR: snr, Seed: a.seed}, a.text)
				if err != nil {
					errs <- err
					continue
				}
				h, cpu, err := hear(g, a.grammar, onLine(sp))
				if err != nil {
					errs <- err
					continue
				}
				var cl claim.Claim
				if a.grammar == claim.WhoGrammar {
					if cl, err = read(h, onLine(sp)); err != nil {
						errs <- err
						continue
					}
				}
				out <- result{voice: v.Name, a: a, h: h, claim: cl, audio: time.Duration(len(sp.Ulaw)) * time.Second / 8000, cpu: cpu}
			}
		})
	}
	go func() {
		for v := range bench {
			for a := range answers {
				jobs <- job{v, a}
			}
		}
		close(jobs)
		wg.Wait()
		close(out)
	}()
	var rs []result
	for r := range out {
		rs = append(rs, r)
	}
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return rs, nil
}

// onLine is an answer as the guard hears it: the line's hiss while the caller draws breath
// after the question, the words, the pause after them.
func onLine(sp voices.Speech) []byte {
	pause := sp.Ulaw[int(sp.Ends[0].Seconds()*8000):] // the hiss after the words
	return append(append([]byte(nil), pause[:min(len(pause), 4000)]...), sp.Ulaw...)
}

// hear feeds a recording to an answer in 20 ms frames, as a call's RTP brings it, and
// returns what was heard and the CPU the decoder's thread spent.
func hear(g speech.Grammar, grammar string, ulaw []byte) (speech.Heard, time.Duration, error) {
	runtime.LockOSThread() // pocketsphinx runs on the calling thread: its CPU is this thread's
	defer runtime.UnlockOSThread()
	a, err := g.Hear(grammar)
	for errors.Is(err, speech.ErrBusy) { // the second decoder is still loading
		time.Sleep(50 * time.Millisecond)
		a, err = g.Hear(grammar)
	}
	if err != nil {
		return speech.Heard{}, 0, err
	}
	start := threadCPU()
	var dec speech.Decoder
	for off := 0; off < len(ulaw); off += 160 {
		if _, err := a.Write(dec.Decode(speech.PCMU, ulaw[off:min(off+160, len(ulaw))])); err != nil {
			a.End()
			return speech.Heard{}, 0, err
		}
	}
	h, err := a.End()
	return h, threadCPU() - start, err
}

func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type tally struct{ who, kind, org, ctl, ctlOK, ctlPolice, ids, idOK int }

func (t *tally) add(r result) {
	switch {
	case r.a.grammar == claim.IDGrammar:
		t.ids++
		if claim.Digits(r.h.Words) == r.a.id {
			t.idOK++
		}
	case r.a.kind < 0:
		got := r.claim
		t.ctl++
		if got.Kind == claim.Company || got.Kind == claim.Unknown {
			t.ctlOK++
		}
		if got.Kind == claim.Police {
			t.ctlPolice++
		}
	default:
		got := r.claim
		t.who++
		if got.Kind == r.a.kind {
			t.kind++
		}
		if got.Organisation == r.a.org {
			t.org++
		}
	}
}

func (t tally) String() string {
	ctl := "—"
	if t.ctl > 0 {
		ctl = fmt.Sprintf("%s (%d police)", share(t.ctlOK, t.ctl), t.ctlPolice)
	}
	return fmt.Sprintf("| %s | %s | %s | %s |", share(t.kind, t.who), share(t.org, t.who), ctl, share(t.idOK, t.ids))
}

// share is a percentage, or a dash when nothing was heard (a run with -only).
func share(a, b int) string {
	if b == 0 {
		return "  —   "
	}
	return fmt.Sprintf("%5.1f%%", pct(a, b))
}

func report(bench []voices.Voice, rs []result, show bool) {
	fmt.Println("| voice | kind right | organisation right | outside the grammar: company or unknown | ID number exactly right |")
	fmt.Println("|---|---|---|---|---|")
	var all tally
	var audio, cpu time.Duration
	for _, v := range bench {
		var t tally
		for _, r := range rs {
			if r.voice == v.Name {
				t.add(r)
			}
		}
		fmt.Printf("| %s %s\n", v.Name, t)
	}
	for _, r := range rs {
		all.add(r)
		audio += r.audio
		cpu += r.cpu
	}
	fmt.Printf("| **all** %s\n\n", all)
	fmt.Printf("decoding: %.0f s of answers took %.1f CPU s: %.3f CPU s per second of speech\n", audio.Seconds(), cpu.Seconds(), cpu.Seconds()/audio.Seconds())
	if !show {
		return
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].voice < rs[j].voice })
	for _, r := range rs {
		got := r.claim
		switch {
		case r.a.grammar == claim.IDGrammar && claim.Digits(r.h.Words) != r.a.id,
			r.a.grammar == claim.WhoGrammar && r.a.kind < 0 && got.Kind != claim.Unknown && got.Kind != claim.Company,
			r.a.grammar == claim.WhoGrammar && r.a.kind >= 0 && got.Organisation != r.a.org:
			fmt.Printf("%-30s %-64q -> %-10v %-24q [%s] unexplained %v\n", r.voice, r.a.text, got.Kind, got.Organisation, r.h.Words, r.h.Unexplained)
		}
	}
}

func pct(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }

// timing plays n asked calls of police callers in real time, as the guard asks them: the
// question, the caller's answer after a moment, the pause that ends it, the question for
// the ID number and its answer. It reports how long until the phones ring (as the guard
// asks for the number) and until the answers are in.
func timing(g speech.Grammar, c *claim.Catalogue, bench []voices.Voice, snr float64, n int) error {
	whoQ, err := media.Prompt("ask_who")
	if err != nil {
		return err
	}
	idQ, err := media.Prompt("ask_id")
	if err != nil {
		return err
	}
	const tone, reply = 250 * time.Millisecond, 500 * time.Millisecond
	var police []answer
	for _, a := range whoAnswers(c) {
		if a.kind == claim.Police {
			police = append(police, a)
		}
	}
	ids := idAnswers(n)
	var rang, took []time.Duration
	for i := range n {
		v := bench[i%len(bench)]
		who, err := v.Speak(voices.Line{SNR: snr, Seed: uint64(i)}, police[i*7%len(police)].text)
		if err != nil {
			return err
		}
		id, err := v.Speak(voices.Line{SNR: snr, Seed: uint64(i)}, ids[i].text)
		if err != nil {
			return err
		}
		start := time.Now()
		for _, q := range []struct {
			prompt  []byte
			grammar string
			said    []byte
		}{{whoQ, claim.WhoGrammar, who.Ulaw}, {idQ, claim.IDGrammar, id.Ulaw}} {
			if q.grammar == claim.IDGrammar { // the guard rings the phones as it asks for the number
				rang = append(rang, time.Since(start))
			}
			time.Sleep(time.Duration(len(q.prompt))*time.Second/8000 + tone)
			ctx, cancel := context.WithCancel(context.Background())
			frames := claim.Play(ctx, append(quiet(reply), q.said...))
			_, err := claim.Hear(ctx, g, q.grammar, frames, nil, claim.DefaultLimits)
			cancel()
			if err != nil {
				return err
			}
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(rang)
	slices.Sort(took)
	fmt.Printf("asked police callers, %d in real time: the phones rang %.1f s (median), %.1f s (longest) after the guard answered;\n"+
		"the questions and answers took %.1f s (median), %.1f s (longest), the ID number's while the phones rang\n",
		n, rang[len(rang)/2].Seconds(), rang[len(rang)-1].Seconds(), took[len(took)/2].Seconds(), took[len(took)-1].Seconds())
	return nil
}

// quiet is d of mu-law silence.
func quiet(d time.Duration) []byte {
	b := make([]byte, int(d.Seconds()*8000))
	for i := range b {
		b[i] = 0xff
	}
	return b
}

var digitNames = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// idAnswers are n ID numbers of four to six digits, said digit by digit, some with the
// words callers put before them.
func idAnswers(n int) []answer {
	rng := rand.New(rand.NewPCG(7, 7))
	lead := []string{"", "My collar number is ", "It's ", "My warrant number is ", "", "Staff number "}
	var out []answer
	for i := range n {
		var digits, words []string
		for range 4 + i%3 {
			d := rng.IntN(10)
			digits = append(digits, fmt.Sprint(d))
			words = append(words, digitNames[d])
		}
		out = append(out, answer{text: lead[i%len(lead)] + strings.Join(words, " ") + ".", grammar: claim.IDGrammar, id: strings.Join(digits, "")})
	}
	return out
}

// openHear is what the open recogniser hears in an answer, fed in 20 ms frames as a call's
// tap brings them: every utterance's readings.
func openHear(rec speech.Recognizer, ulaw []byte) (string, error) {
	st, err := rec.Start("claimeval")
	for errors.Is(err, speech.ErrBusy) { // the other decoder is still loading
		time.Sleep(50 * time.Millisecond)
		st, err = rec.Start("claimeval")
	}
	if err != nil {
		return "", err
	}
	var dec speech.Decoder
	var us []speech.Utterance
	for off := 0; off < len(ulaw); off += 160 {
		u, err := st.Write(dec.Decode(speech.PCMU, ulaw[off:min(off+160, len(ulaw))]))
		if err != nil {
			st.Close()
			return "", err
		}
		us = append(us, u...)
	}
	u, err := st.Close()
	var b strings.Builder
	for _, u := range append(us, u...) {
		for _, r := range append([]string{u.Text}, u.Alternatives...) {
			b.WriteString(r + " | ")
		}
	}
	return b.String(), err
}

// confirmed is got, an authority's claim kept only when the open recogniser heard (heard) a
// word of the organisation's name (-confirm).
func confirmed(c *claim.Catalogue, got claim.Claim, heard string) claim.Claim {
	if !got.Kind.Authority() {
		return got
	}
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(heard, func(r rune) bool { return r == ' ' || r == '|' }) {
		words[w] = true
	}
	for _, o := range c.Organisations {
		if o.Name != got.Organisation {
			continue
		}
		for _, say := range o.Says {
			for _, e := range claim.Expand(say) {
				for _, w := range strings.Fields(e) {
					if len(w) > 3 && words[w] {
						return got
					}
				}
			}
		}
	}
	return claim.Claim{Words: got.Words}
}
