// Package voices speaks text in a named synthetic voice as a telephone line carries it, for
// tests and benches of listening. A Voice is one of Debian's speech synthesisers (espeak-ng,
// flite, festival) with its settings; Speak runs it on each sentence, trims the synthesiser's
// own silence, sets the speech to one level (-20 dBFS), passes it through the telephone band
// at 8 kHz (speech.Telephone), lays the sentences out with Gap after each, adds the Line's
// hiss, and encodes the result as G.711 µ-law — what the guard's tap would receive.
//
// Everything is deterministic: the same voice, line and sentences give the same bytes
// (the synthesisers are; the noise comes from a seeded generator, not from sox's dither).
//
//	v, _ := voices.Find("flite-slt")
//	sp, err := v.Speak(voices.Line{SNR: 20, Seed: 1}, "Hello, this is the bank.", "Is that Mrs Hughes?")
//	// sp.Ulaw: 8 kHz µ-law; sp.Ends[i]: where sentence i's speech stops
//
// Names in Bench are stable: other benches and tests refer to voices by them.
package voices

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/wav"
)

// Engines: the synthesiser programs a Voice may name.
const (
	Espeak   = "espeak-ng" // Debian espeak-ng: formant synthesis, many accents
	Flite    = "flite"     // Debian flite: kal (diphone), awb, rms, slt (clustergen)
	Festival = "festival"  // Debian festival with a festvox-* voice, run through text2wave
)

// Voice is one synthetic speaker.
type Voice struct {
	Name   string // stable name, e.g. "espeak-en-gb-scotland-s150-p45", "flite-awb", "festival-kal"
	Engine string // Espeak, Flite or Festival
	ID     string // the engine's own name for the voice: "en-gb-x-rp", "slt", "kal_diphone"
	Speed  int    // espeak-ng only: words per minute (0: its default, 175)
	Pitch  int    // espeak-ng only: 0-99 (0: its default, 50)
	About  string // in words, for reports
}

// Bench is the voice bench: espeak-ng's English accents at several speeds and pitches,
// flite's four voices and festival's two English ones.
var Bench = []Voice{
	{Name: "espeak-en-us-s150-p50", Engine: Espeak, ID: "en-us", Speed: 150, Pitch: 50, About: "espeak-ng US English, 150 wpm (the voice of the older listening tests)"},
	{Name: "espeak-en-us-s180-p35", Engine: Espeak, ID: "en-us", Speed: 180, Pitch: 35, About: "espeak-ng US English, fast and low"},
	{Name: "espeak-en-gb-s150-p50", Engine: Espeak, ID: "en-gb", Speed: 150, Pitch: 50, About: "espeak-ng British English"},
	{Name: "espeak-en-gb-s130-p70", Engine: Espeak, ID: "en-gb", Speed: 130, Pitch: 70, About: "espeak-ng British English, slow and high"},
	{Name: "espeak-en-gb-scotland-s150-p45", Engine: Espeak, ID: "en-gb-scotland", Speed: 150, Pitch: 45, About: "espeak-ng Scottish English"},
	{Name: "espeak-en-gb-x-rp-s165-p55", Engine: Espeak, ID: "en-gb-x-rp", Speed: 165, Pitch: 55, About: "espeak-ng Received Pronunciation"},
	{Name: "espeak-en-gb-x-rp-s125-p30", Engine: Espeak, ID: "en-gb-x-rp", Speed: 125, Pitch: 30, About: "espeak-ng Received Pronunciation, slow and low"},
	{Name: "flite-kal", Engine: Flite, ID: "kal", About: "flite kal: US male diphone, 8 kHz"},
	{Name: "flite-awb", Engine: Flite, ID: "awb", About: "flite awb: Scottish male (clustergen)"},
	{Name: "flite-rms", Engine: Flite, ID: "rms", About: "flite rms: US male (clustergen)"},
	{Name: "flite-slt", Engine: Flite, ID: "slt", About: "flite slt: US female (clustergen)"},
	{Name: "festival-kal", Engine: Festival, ID: "kal_diphone", About: "festival kal diphone: US male"},
	{Name: "festival-slt-hts", Engine: Festival, ID: "cmu_us_slt_arctic_hts", About: "festival slt HTS: US female (statistical parametric)"},
}

// Find returns the Bench voice called name.
func Find(name string) (Voice, error) {
	for _, v := range Bench {
		if v.Name == name {
			return v, nil
		}
	}
	names := make([]string, len(Bench))
	for i, v := range Bench {
		names[i] = v.Name
	}
	return Voice{}, fmt.Errorf("voices: no voice %q (have %s)", name, strings.Join(names, ", "))
}

// Packages are the Debian packages a voice needs, for error messages and the Makefile.
func (v Voice) Packages() []string {
	switch {
	case v.Engine == Festival && v.ID == "kal_diphone":
		return []string{"festival", "festvox-kallpc16k"}
	case v.Engine == Festival && v.ID == "cmu_us_slt_arctic_hts":
		return []string{"festival", "festvox-us-slt-hts"}
	case v.Engine == Festival:
		return []string{"festival"}
	}
	return []string{v.Engine}
}

// Line is the telephone line between the speaker and the guard.
type Line struct {
	// SNR is how far the line's hiss (white noise across the band) lies below the speech,
	// in dB; 0 is a clean line.
	SNR float64
	// Seed chooses the noise: the same seed and words give the same noise.
	Seed uint64
}

// Clean is a line without noise.
var Clean = Line{}

// Level is the RMS level every sentence is set to before the line: -20 dBFS, a talker's
// usual level on a digital line.
const Level = 0.1 * 32768

// Gap is the silence after each sentence, as a speaker takes breath; a recogniser ends an
// utterance in it.
const Gap = 700 * time.Millisecond

// Speech is sentences spoken down a line.
type Speech struct {
	Ulaw []byte          // 8 kHz G.711 µ-law
	Ends []time.Duration // where each sentence's speech stops, before its gap
}

// Speak says each sentence in voice v, with Gap after each, down line l.
func (v Voice) Speak(l Line, sentences ...string) (Speech, error) {
	var pcm []int16
	var sp Speech
	gap := make([]int16, int(Gap.Seconds()*speech.LineRate))
	for _, s := range sentences {
		raw, rate, err := v.Synthesise(s)
		if err != nil {
			return Speech{}, err
		}
		pcm = append(pcm, level(trim(speech.Telephone(raw, rate)))...)
		sp.Ends = append(sp.Ends, time.Duration(len(pcm))*time.Second/speech.LineRate)
		pcm = append(pcm, gap...)
	}
	if l.SNR > 0 {
		h := fnv.New64a()
		h.Write([]byte(v.Name + "\x00" + strings.Join(sentences, "\x00")))
		rng := rand.New(rand.NewPCG(l.Seed, h.Sum64()))
		sigma := Level * math.Pow(10, -l.SNR/20)
		for i := range pcm {
			pcm[i] = sat(float64(pcm[i]) + sigma*rng.NormFloat64())
		}
	}
	sp.Ulaw = speech.EncodeULaw(pcm)
	return sp, nil
}

// Synthesise runs the voice's engine on text and returns its own output: linear samples
// and their rate, before the telephone line.
func (v Voice) Synthesise(text string) ([]int16, int, error) {
	if _, err := exec.LookPath(engineTool(v.Engine)); err != nil {
		return nil, 0, fmt.Errorf("voices: %s needs %s (Debian %s; `make test-deps` installs it)", v.Name, engineTool(v.Engine), strings.Join(v.Packages(), ", "))
	}
	dir, err := os.MkdirTemp("", "clearline-voice-")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "say.wav")
	var cmd *exec.Cmd
	switch v.Engine {
	case Espeak:
		args := []string{"-v", v.ID, "-w", out}
		if v.Speed > 0 {
			args = append(args, "-s", strconv.Itoa(v.Speed))
		}
		if v.Pitch > 0 {
			args = append(args, "-p", strconv.Itoa(v.Pitch))
		}
		cmd = exec.Command("espeak-ng", append(args, "--", text)...)
	case Flite:
		cmd = exec.Command("flite", "-voice", v.ID, "-t", text, "-o", out)
	case Festival:
		cmd = exec.Command("text2wave", "-eval", "(voice_"+v.ID+")", "-o", out)
		cmd.Stdin = strings.NewReader(text)
	default:
		return nil, 0, fmt.Errorf("voices: %s: unknown engine %q", v.Name, v.Engine)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, 0, fmt.Errorf("voices: %s %q: %w: %s", v.Name, text, err, strings.TrimSpace(stderr.String()))
	}
	f, err := os.Open(out)
	if err != nil {
		return nil, 0, fmt.Errorf("voices: %s wrote no audio: %w", v.Name, err)
	}
	defer f.Close()
	a, err := wav.Read(f)
	if err != nil {
		return nil, 0, fmt.Errorf("voices: %s: %w", v.Name, err)
	}
	if a.Encoding != wav.PCM16 {
		return nil, 0, fmt.Errorf("voices: %s wrote %s, want 16-bit PCM", v.Name, a.Encoding)
	}
	return a.PCM, a.Rate, nil
}

func engineTool(engine string) string {
	if engine == Festival {
		return "text2wave"
	}
	return engine
}

// trim cuts the synthesiser's leading and trailing silence: whatever lies below 2 % of the
// sentence's peak.
func trim(x []int16) []int16 {
	var peak int
	for _, v := range x {
		peak = max(peak, abs(int(v)))
	}
	gate := peak / 50
	lo, hi := 0, len(x)
	for lo < hi && abs(int(x[lo])) <= gate {
		lo++
	}
	for hi > lo && abs(int(x[hi-1])) <= gate {
		hi--
	}
	return x[lo:hi]
}

// level scales x in place to an RMS of Level.
func level(x []int16) []int16 {
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	if sum == 0 {
		return x
	}
	g := Level / math.Sqrt(sum/float64(len(x)))
	for i, v := range x {
		x[i] = sat(g * float64(v))
	}
	return x
}

func sat(v float64) int16 { return int16(max(-32768, min(32767, math.Round(v)))) }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
