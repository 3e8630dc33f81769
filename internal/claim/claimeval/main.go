// Command claimeval measures how well the guard hears who a caller says they are: every
// organisation of the catalogue named in a spoken answer, a control set of answers outside
// the grammar, and ID numbers, each spoken by the voice bench down a noisy telephone line.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/sphinx"
	"github.com/clearline/clearline/internal/speech/voices"
)

type item struct {
	text string
	kind claim.Kind // -1: control, outside the grammar
	org  string
	id   string
}

type result struct {
	voice string
	it    item
	h     speech.Heard
	audio time.Duration
	cpu   time.Duration
}

func main() {
	nv := flag.Int("voices", 0, "voices of the bench to use (0: all)")
	every := flag.Int("every", 1, "use every n-th organisation")
	extra := flag.String("args", "", "further pocketsphinx arguments")
	snr := flag.Float64("snr", 20, "the line's signal-to-noise ratio, dB")
	show := flag.Bool("show", false, "print every miss")
	flag.Parse()
	c := claim.Builtin()
	g, err := sphinx.NewGrammar(sphinx.GrammarOptions{Decoders: 2, Grammars: c.Grammars(), Words: c.Words(), Pronounce: c.Pronounce, Args: strings.Fields(*extra)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "claimeval:", err)
		os.Exit(1)
	}
	bench := voices.Bench
	if *nv > 0 {
		bench = bench[:*nv]
	}
	var items []item
	for i, it := range whoAnswers(c) {
		if i%*every == 0 {
			items = append(items, it)
		}
	}
	for _, t := range control {
		items = append(items, item{text: t, kind: -1})
	}
	results := run(g, bench, items, *snr)
	report(c, bench, results, *show)
}

func run(g speech.Grammar, bench []voices.Voice, items []item, snr float64) []result {
	type job struct{ v, i int }
	jobs := make(chan job)
	out := make(chan result)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				v, it := bench[j.v], items[j.i]
				sp, err := v.Speak(voices.Line{SNR: snr, Seed: uint64(j.i)}, it.text)
				if err != nil {
					fmt.Fprintln(os.Stderr, "claimeval:", err)
					os.Exit(1)
				}
				start := time.Now()
				h, err := hear(g, claim.WhoGrammar, sp.Ulaw)
				if err != nil {
					fmt.Fprintln(os.Stderr, "claimeval:", err)
					os.Exit(1)
				}
				out <- result{voice: v.Name, it: it, h: h, audio: time.Duration(len(sp.Ulaw)) * time.Second / 8000, cpu: time.Since(start)}
			}
		}()
	}
	go func() {
		for v := range bench {
			for i := range items {
				jobs <- job{v, i}
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
	return rs
}

type tally struct{ n, kind, org, ctl, ctlOK, ctlPolice int }

func (t *tally) add(c *claim.Catalogue, r result, limit time.Duration) {
	h := r.h
	if h.Unexplained > limit {
		h.Words = ""
	}
	got := readAt(c, h)
	if r.it.kind < 0 {
		t.ctl++
		if got.Kind == claim.Company || got.Kind == claim.Unknown {
			t.ctlOK++
		}
		if got.Kind == claim.Police {
			t.ctlPolice++
		}
		return
	}
	t.n++
	if got.Kind == r.it.kind {
		t.kind++
	}
	if got.Organisation == r.it.org {
		t.org++
	}
}

func readAt(c *claim.Catalogue, h speech.Heard) claim.Claim {
	h.Unexplained = 0
	return c.Read(h)
}

func report(c *claim.Catalogue, bench []voices.Voice, rs []result, show bool) {
	limits := []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, time.Second, 2 * time.Second, time.Hour}
	fmt.Printf("%-32s", "unexplained at most")
	for _, l := range limits {
		fmt.Printf(" | %-26s", l)
	}
	fmt.Println()
	var audio, cpu time.Duration
	all := make([]tally, len(limits))
	for _, v := range bench {
		fmt.Printf("%-32s", v.Name)
		for li, l := range limits {
			var t tally
			for _, r := range rs {
				if r.voice == v.Name {
					t.add(c, r, l)
					all[li].add(c, r, l)
				}
			}
			fmt.Printf(" | kind %3.0f org %3.0f ctl %3.0f/%d", pct(t.kind, t.n), pct(t.org, t.n), pct(t.ctlOK, t.ctl), t.ctlPolice)
		}
		fmt.Println()
	}
	fmt.Printf("%-32s", "all")
	for _, t := range all {
		fmt.Printf(" | kind %3.0f org %3.0f ctl %3.0f/%d", pct(t.kind, t.n), pct(t.org, t.n), pct(t.ctlOK, t.ctl), t.ctlPolice)
	}
	fmt.Println()
	for _, r := range rs {
		audio += r.audio
		cpu += r.cpu
	}
	fmt.Printf("%d answers, %.0f s of audio; decoding took %.3f s per second of audio (two decoders at once)\n", len(rs), audio.Seconds(), cpu.Seconds()/audio.Seconds())
	if show {
		sort.Slice(rs, func(i, j int) bool { return rs[i].voice < rs[j].voice })
		for _, r := range rs {
			got := c.Read(r.h)
			if (r.it.kind < 0 && got.Kind != claim.Unknown) || (r.it.kind >= 0 && got.Organisation != r.it.org) {
				fmt.Printf("%-28s %-70q -> %-11v %-26q [%s] unexplained %v\n", r.voice, r.it.text, got.Kind, got.Organisation, r.h.Words, r.h.Unexplained)
			}
		}
	}
}

func pct(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }

// hear feeds a recording to an answer in 20 ms frames, as a call's RTP brings it.
func hear(g speech.Grammar, grammar string, ulaw []byte) (speech.Heard, error) {
	a, err := g.Hear(grammar)
	for errors.Is(err, speech.ErrBusy) { // the second decoder is still loading
		time.Sleep(50 * time.Millisecond)
		a, err = g.Hear(grammar)
	}
	if err != nil {
		return speech.Heard{}, err
	}
	var dec speech.Decoder
	for off := 0; off < len(ulaw); off += 160 {
		if _, err := a.Write(dec.Decode(speech.PCMU, ulaw[off:min(off+160, len(ulaw))])); err != nil {
			a.End()
			return speech.Heard{}, err
		}
	}
	return a.End()
}
