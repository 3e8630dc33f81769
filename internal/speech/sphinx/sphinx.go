// Package sphinx recognises speech with CMU pocketsphinx (Debian's libpocketsphinx and its
// en-us acoustic model), on the machine, through cgo. Built without cgo, New reports that
// pocketsphinx is not available and the guard runs with another recogniser or none.
//
// The general English language model transcribes synthetic and telephone speech poorly, so
// the default mode, "domain", decodes against a small trigram model built from the
// detector's corpus (both scam and genuine calls): the recogniser expects the words such
// calls use. "keyphrase" spots a fixed list of the detector's phrases instead of
// transcribing, and "general" uses Debian's full model, for comparison. The README reports
// how each serves the detector.
package sphinx

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Mode chooses what the decoder listens for.
type Mode string

// The modes.
const (
	Domain    Mode = "domain"
	Keyphrase Mode = "keyphrase"
	General   Mode = "general"
)

// Modes lists every mode.
var Modes = []Mode{Domain, Keyphrase, General}

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
}

// ErrUnavailable means this binary was built without cgo.
var ErrUnavailable = errors.New("pocketsphinx is not available in this build (built without cgo)")

//go:embed model
var model embed.FS

// files lays out what a decoder of mode m reads, writing the embedded models to dir.
func (o Options) files(dir string) ([]string, error) {
	am := filepath.Join(o.ModelDir, "en-us")
	if _, err := os.Stat(filepath.Join(am, "mdef")); err != nil {
		return nil, fmt.Errorf("pocketsphinx acoustic model not found in %s (install Debian's pocketsphinx-en-us): %w", am, err)
	}
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
			return nil, err
		}
		dict, err := write("clearline.dict")
		if err != nil {
			return nil, err
		}
		args = append(args, "-lm", lm, "-dict", dict)
	case Keyphrase:
		kws, err := write("keyphrases.txt")
		if err != nil {
			return nil, err
		}
		args = append(args, "-kws", kws, "-dict", filepath.Join(o.ModelDir, "cmudict-en-us.dict"))
	case General:
		args = append(args, "-lm", filepath.Join(o.ModelDir, "en-us.lm.bin"), "-dict", filepath.Join(o.ModelDir, "cmudict-en-us.dict"))
	default:
		return nil, fmt.Errorf("unknown pocketsphinx mode %q (want domain, keyphrase or general)", o.Mode)
	}
	// Speech ends after 0.3 s of silence: the detector hears each sentence soon after it
	// is said.
	return append(args, "-vad_postspeech", "30", "-logfn", os.DevNull), nil
}
