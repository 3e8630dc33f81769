// Command listeneval measures each pocketsphinx mode on the test call scripts
// (testdata/listen) spoken by espeak-ng: word accuracy against the script, keyphrase recall
// and false keyphrases, the detector's verdict on the recogniser's words, the real-time
// factor of one stream, and how many calls two decoders working at once keep up with.
// `make listen-eval` runs it; the README reports its figures.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/speechtest"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

func main() {
	dir := flag.String("scripts", "testdata/listen", "call scripts")
	parallel := flag.Int("parallel", 2, "streams decoded at once for the capacity figure")
	modes := flag.String("modes", "domain,keyphrase,general", "pocketsphinx modes to measure")
	flag.Parse()
	var ms []sphinx.Mode
	for _, m := range strings.Split(*modes, ",") {
		ms = append(ms, sphinx.Mode(m))
	}
	if err := run(*dir, *parallel, ms); err != nil {
		fmt.Fprintln(os.Stderr, "listeneval:", err)
		os.Exit(1)
	}
}

type clip struct {
	s speechtest.Script
	a speechtest.Audio
}

func run(dir string, parallel int, modes []sphinx.Mode) error {
	scripts, err := speechtest.LoadScripts(dir)
	if err != nil {
		return err
	}
	var clips []clip
	var audio time.Duration
	for _, s := range scripts {
		a, err := speechtest.Speak(s)
		if err != nil {
			return err
		}
		clips = append(clips, clip{s, a})
		audio += time.Duration(len(a.Ulaw)) * time.Second / 8000
	}
	fmt.Printf("%d scripts, %.0f s of speech (espeak-ng %s, 8 kHz mu-law)\n\n", len(clips), audio.Seconds(), speechtest.Voice)
	fmt.Printf("%-10s %-18s %6s %8s %8s %6s %-10s\n", "mode", "script", "words", "kw-found", "kw-false", "risk", "verdict")
	det := detect.New()
	type summary struct {
		wordAcc, found, truth, falses float64
		right, n                      int
		rtf, capacity                 float64
	}
	sums := map[sphinx.Mode]*summary{}
	for _, mode := range modes {
		rec, err := sphinx.New(sphinx.Options{Mode: mode, Decoders: parallel})
		if err != nil {
			return err
		}
		sum := &summary{}
		sums[mode] = sum
		var busy time.Duration
		for _, c := range clips {
			start := time.Now()
			us, err := recognise(rec, c.a)
			if err != nil {
				return err
			}
			busy += time.Since(start)
			var words []string
			call := det.NewCall()
			var as detect.Assessment
			for _, u := range us {
				words = append(words, u.Text)
				as = call.Feed(detect.Segment{Text: u.Text, T: u.End.Seconds()})
			}
			hyp := strings.Join(words, " ")
			ref := normalise(c.s.Text())
			acc := 1 - wer(strings.Fields(ref), strings.Fields(hyp))
			found, truth, falses := keyphrases(ref, hyp)
			sum.wordAcc += acc
			sum.found += float64(found)
			sum.truth += float64(truth)
			sum.falses += float64(falses)
			if (as.Verdict == detect.Scam) == (c.s.Label == "scam") {
				sum.right++
			}
			sum.n++
			fmt.Printf("%-10s %-18s %5.0f%% %4d/%-3d %8d %6.2f %-10s\n", mode, c.s.Name, 100*acc, found, truth, falses, as.Risk, as.Verdict)
		}
		sum.rtf = busy.Seconds() / audio.Seconds()
		// Capacity: parallel streams at once, as fast as they go.
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, parallel)
		for p := range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := p; i < len(clips)*parallel; i += parallel {
					if _, err := recognise(rec, clips[i%len(clips)].a); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return err
		}
		sum.capacity = float64(parallel) * audio.Seconds() / time.Since(start).Seconds()
		rec.Close()
	}
	fmt.Printf("\n%-10s %9s %11s %14s %13s %8s %22s\n", "mode", "word acc", "kw recall", "false kw/call", "verdicts", "RTF", fmt.Sprintf("real-time calls (%d dec)", parallel))
	for _, mode := range modes {
		s := sums[mode]
		fmt.Printf("%-10s %8.0f%% %10.0f%% %14.1f %9d/%-3d %8.3f %22.0f\n", mode, 100*s.wordAcc/float64(s.n), 100*s.found/s.truth, s.falses/float64(s.n), s.right, s.n, s.rtf, s.capacity)
	}
	fmt.Println("\nword acc: 1 - word error rate against the script (keyphrase mode outputs only phrases, so it scores low by design);")
	fmt.Println("kw recall: the modes' share of the keyphrases the scripts contain that appear in their output;")
	fmt.Println("verdicts: scam scripts judged scam and benign ones not; RTF: decoding time / audio time, one stream.")
	return nil
}

// recognise waits for a free decoder, then transcribes a.
func recognise(rec speech.Recognizer, a speechtest.Audio) ([]speech.Utterance, error) {
	for {
		us, err := speechtest.Recognise(rec, a)
		if err != speech.ErrBusy {
			return us, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// normalise lowercases and strips punctuation as the recogniser writes words.
func normalise(s string) string {
	s = strings.ToLower(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '\'')
	}), " ")
}

// keyphrases counts the keyphrases in ref also in hyp, those in ref, and those in hyp
// but not in ref.
func keyphrases(ref, hyp string) (found, truth, falses int) {
	pad := func(s string) string { return " " + s + " " }
	for _, k := range sphinx.Keyphrases {
		inRef := strings.Contains(pad(ref), pad(k))
		inHyp := strings.Contains(pad(hyp), pad(k))
		switch {
		case inRef && inHyp:
			found++
			truth++
		case inRef:
			truth++
		case inHyp:
			falses++
		}
	}
	return found, truth, falses
}

// wer is the word error rate: edits to turn hyp into ref, over ref's length.
func wer(ref, hyp []string) float64 {
	prev := make([]int, len(hyp)+1)
	cur := make([]int, len(hyp)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(hyp); j++ {
			sub := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	if len(ref) == 0 {
		return 0
	}
	return float64(prev[len(hyp)]) / float64(len(ref))
}
