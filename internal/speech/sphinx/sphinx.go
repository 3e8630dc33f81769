// Package sphinx recognises speech with CMU pocketsphinx (Debian's libpocketsphinx and its
// en-us acoustic model), on the machine, through cgo. Built without cgo, New reports that
// pocketsphinx is not available and the guard runs with another recogniser or none.
//
// The general English language model transcribes synthetic and telephone speech poorly, so
// the default mode, "domain", decodes against a small trigram model built from the
// detector's corpus (both scam and genuine calls): the recogniser expects the words such
// calls use. "mixed" interpolates that model with Debian's general one (better words, four
// times the processor), "keyphrase" spots a fixed list of the detector's phrases instead of
// transcribing, and "general" uses Debian's full model, for comparison. Each utterance
// carries its next-best readings for the detector. The README reports how each serves it.
package sphinx

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Mode chooses what the decoder listens for.
type Mode string

// The modes.
const (
	Domain    Mode = "domain"
	Keyphrase Mode = "keyphrase"
	General   Mode = "general"
	// Mixed interpolates the domain model with Debian's general one: ordinary words are
	// not forced into the domain's, and the domain's still come through.
	Mixed Mode = "mixed"
)

// Modes lists every mode.
var Modes = []Mode{Domain, Keyphrase, General, Mixed}

// DefaultModelDir is where Debian's pocketsphinx-en-us puts the acoustic model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// Options configure a recogniser.
type Options struct {
	Mode Mode
	// ModelDir holds Debian's en-us model: en-us/ (acoustic), en-us.lm.bin, cmudict-en-us.dict.
	ModelDir string
	// Decoders is how many streams can run at once; each decoder holds its own copy of the
	// acoustic model.
	Decoders int
	// DomainWeight is the domain model's share in Mixed mode (0: DefaultDomainWeight).
	DomainWeight float64
	// Vocabulary is how many of the general model's words, the likeliest first, a Mixed
	// decoder knows besides the domain model's (0: DefaultVocabulary): the fewer, the
	// faster it decodes.
	Vocabulary int
	// FreshMean starts each stream from the cepstral mean the decoder had after its
	// warm-up, not from the last call's: every call is heard the same way, whoever called
	// before.
	FreshMean bool
	// Alternatives is how many next-best readings (n-best) each utterance carries besides
	// its best one, for the detector (0: DefaultAlternatives; negative: none).
	Alternatives int
	// Unadapted hears with Debian's acoustic model as it is, without the transform that
	// adapts it to the telephone line (model/telephone.mllr, `make adapt`): for measuring.
	Unadapted bool
	// Args are further pocketsphinx arguments ("-vad_threshold", "3", ...), after the
	// mode's own (give none the mode sets already): for measuring settings (listeneval).
	Args []string
}

// DefaultDomainWeight is the domain model's share in Mixed mode.
const DefaultDomainWeight = 0.5

// DefaultAlternatives is how many next-best readings an utterance carries. On the voice bench
// (260 calls) with the detector of issue 12, none got 186 verdicts right (72 of 169 scams
// missed, 2 of 91 genuine calls flagged), one 196 (57, 7), two 200 (53, 7) and three 198
// (51, 11): a third reading mostly adds false alarms. The cost is the same.
const DefaultAlternatives = 2

// DefaultVocabulary is how many general words a Mixed decoder knows.
const DefaultVocabulary = 20000

// mix is what a Mixed decoder interpolates.
type mix struct {
	domain, general string
	weight          float64
}

// ErrUnavailable means this binary was built without cgo.
var ErrUnavailable = errors.New("pocketsphinx is not available in this build (built without cgo)")

//go:embed model
var model embed.FS

// vocabulary writes the dictionary of a Mixed decoder: the domain model's words and the
// general model's likeliest, with every pronunciation Debian's dictionary gives them.
func (o Options) vocabulary(dir, general string) (string, error) {
	full, err := os.ReadFile(filepath.Join(o.ModelDir, "cmudict-en-us.dict"))
	if err != nil {
		return "", fmt.Errorf("pocketsphinx dictionary: %w (install Debian's pocketsphinx-en-us)", err)
	}
	words, err := ReadDict(bytes.NewReader(full))
	if err != nil {
		return "", err
	}
	candidates := make([]string, 0, len(words))
	for w := range words {
		candidates = append(candidates, w)
	}
	sort.Strings(candidates)
	n := o.Vocabulary
	if n <= 0 {
		n = DefaultVocabulary
	}
	common, err := commonWords(general, candidates, n)
	if err != nil {
		return "", err
	}
	keep := map[string]bool{}
	for _, w := range common {
		keep[w] = true
	}
	domain, err := model.ReadFile("model/clearline.dict")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(domain), "\n") {
		if w, _, ok := strings.Cut(line, " "); ok {
			keep[w] = true
		}
	}
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(full), "\n") {
		w, _, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i] // another pronunciation: "read(2)"
		}
		if keep[w] {
			out.WriteString(line)
		}
	}
	p := filepath.Join(dir, "vocabulary.dict")
	return p, os.WriteFile(p, out.Bytes(), 0o644)
}

// files lays out what a decoder of mode m reads, writing the embedded models to dir.
func (o Options) files(dir string) ([]string, *mix, error) {
	am := filepath.Join(o.ModelDir, "en-us")
	if _, err := os.Stat(filepath.Join(am, "mdef")); err != nil {
		return nil, nil, fmt.Errorf("pocketsphinx acoustic model not found in %s (install Debian's pocketsphinx-en-us): %w", am, err)
	}
	var mx *mix
	args := []string{"-hmm", am}
	write := func(name string) (string, error) {
		b, err := model.ReadFile("model/" + name)
		if err != nil {
			return "", err
		}
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, b, 0o644)
	}
	switch o.Mode {
	case Domain, "":
		lm, err := write("clearline.lm")
		if err != nil {
			return nil, nil, err
		}
		dict, err := write("clearline.dict")
		if err != nil {
			return nil, nil, err
		}
		args = append(args, "-lm", lm, "-dict", dict)
	case Mixed:
		lm, err := write("clearline.lm")
		if err != nil {
			return nil, nil, err
		}
		w := o.DomainWeight
		if w == 0 {
			w = DefaultDomainWeight
		}
		if w < 0 || w >= 1 {
			return nil, nil, fmt.Errorf("domain weight %v: want more than 0 and less than 1", w)
		}
		general := filepath.Join(o.ModelDir, "en-us.lm.bin")
		mx = &mix{domain: lm, general: general, weight: w}
		dict, err := o.vocabulary(dir, general)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, "-lm", lm, "-dict", dict)
	case Keyphrase:
		kws, err := write("keyphrases.txt")
		if err != nil {
			return nil, nil, err
		}
		args = append(args, "-kws", kws, "-dict", filepath.Join(o.ModelDir, "cmudict-en-us.dict"))
	case General:
		args = append(args, "-lm", filepath.Join(o.ModelDir, "en-us.lm.bin"), "-dict", filepath.Join(o.ModelDir, "cmudict-en-us.dict"))
	default:
		return nil, nil, fmt.Errorf("unknown pocketsphinx mode %q (want domain, mixed, keyphrase or general)", o.Mode)
	}
	if !o.Unadapted {
		// Debian's model is wide-band; the line is not. An MLLR transform of its means,
		// estimated from voices that are not on the voice bench down the telephone line
		// (scripts/adapt.sh), took the bench from 44% of words to 52% and 200 to 223 of 260
		// verdicts right, and Debian's real recorded voices from 6.9% to 10.9% (50.5% to
		// 59.4% with the general model).
		mllr, err := write("telephone.mllr")
		if err != nil {
			return nil, nil, err
		}
		args = append(args, "-mllr", mllr)
	}
	// Speech ends after 0.3 s of silence: the detector hears each sentence soon after it
	// is said.
	args = append(args, "-vad_postspeech", "30", "-logfn", os.DevNull)
	return append(args, o.Args...), mx, nil
}
