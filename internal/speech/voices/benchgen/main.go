// Command benchgen builds the voice bench for `clearline listen --eval`: every call script
// in -scripts spoken by every voice of voices.Bench down a telephone line, as
// OUT/VOICE/SCRIPT@LINE.wav (8 kHz µ-law) with SCRIPT@LINE.txt, the words said. The lines
// cycle through a clean line and hiss 30 dB and 20 dB below the speech, so that each voice
// and each script meets all three; the noise is seeded, so the bench is the same every run.
// It also writes Debian's recorded voices (pocketsphinx-testdata) as REAL/SET/NAME.wav.
// `make voice-bench` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/clearline/clearline/internal/speech/speechtest"
	"github.com/clearline/clearline/internal/speech/voices"
	"github.com/clearline/clearline/internal/speech/wav"
)

// lines are the bench's telephone lines, by name.
var lines = []struct {
	name string
	line voices.Line
}{{"clean", voices.Clean}, {"snr30", voices.Line{SNR: 30, Seed: 30}}, {"snr20", voices.Line{SNR: 20, Seed: 20}}}

func main() {
	scripts := flag.String("scripts", "testdata/voices", "call scripts: one sentence a line after '# scam: ...' or '# benign: ...'")
	out := flag.String("out", "artifacts/voice-bench", "where to write the bench")
	only := flag.String("voices", "", "comma-separated voice names (default: all of voices.Bench)")
	real := flag.String("real", "artifacts/real-voices", "where to write Debian's recorded voices (SET/NAME.wav); empty to skip")
	jobs := flag.Int("jobs", 2, "synthesisers run at once")
	flag.Parse()
	if err := run(*scripts, *out, *only, *real, *jobs); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

func run(dir, out, only, real string, jobs int) error {
	ss, err := speechtest.LoadScripts(dir)
	if err != nil {
		return err
	}
	vs := voices.Bench
	if only != "" {
		vs = nil
		for _, n := range strings.Split(only, ",") {
			v, err := voices.Find(n)
			if err != nil {
				return err
			}
			vs = append(vs, v)
		}
	}
	type job struct {
		v    voices.Voice
		s    speechtest.Script
		line int
	}
	work := make(chan job)
	errs := make(chan error, jobs)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				l := lines[j.line]
				sp, err := j.v.Speak(l.line, j.s.Lines...)
				if err == nil {
					name := filepath.Join(out, j.v.Name, j.s.Name+"@"+l.name)
					err = write(name, sp.Ulaw, "# "+j.s.Label+": "+j.s.About+"\n"+strings.Join(j.s.Lines, "\n")+"\n")
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	n := 0
	for vi, v := range vs {
		for si, s := range ss {
			work <- job{v, s, (vi + si) % len(lines)}
			n++
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Printf("%s: %d recordings, %d voices x %d scripts\n", out, n, len(vs), len(ss))
	if real == "" {
		return nil
	}
	recs, err := voices.Real(voices.TestData)
	if err != nil {
		return err
	}
	for _, r := range recs {
		name := filepath.Join(real, r.Set, r.Name)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		f, err := os.Create(name + ".wav")
		if err != nil {
			return err
		}
		err = wav.WritePCM(f, r.Audio.Rate, r.Audio.PCM)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.WriteFile(name+".txt", []byte(r.Said+"\n"), 0o644)
		}
		if err != nil {
			return err
		}
	}
	fmt.Printf("%s: %d real recordings\n", real, len(recs))
	return nil
}

func write(name string, ulaw []byte, words string) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.Create(name + ".wav")
	if err != nil {
		return err
	}
	err = wav.WriteG711(f, wav.ULaw, ulaw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.WriteFile(name+".txt", []byte(words), 0o644)
}
