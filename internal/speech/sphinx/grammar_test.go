package sphinx_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/sphinx"
	"github.com/clearline/clearline/internal/speech/voices"
)

const forces = `#JSGF V1.0;
grammar forces;
public <force> = [this is] (kent police | barclays bank | thames valley police);
`

func forceGrammar(t *testing.T, decoders int) speech.Grammar {
	t.Helper()
	g, err := sphinx.NewGrammar(sphinx.GrammarOptions{Decoders: decoders, Grammars: map[string]string{"forces": forces},
		Words: []string{"this", "is", "kent", "police", "barclays", "bank", "thames", "valley"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// A grammar hears which of its phrases was said, in an answer fed as a call brings it; the
// words do not change with the answers the decoder heard before (another caller's line).
func TestGrammarHears(t *testing.T) {
	g := forceGrammar(t, 1)
	v, _ := voices.Find("flite-kal")
	heard := map[string]speech.Heard{}
	for _, text := range []string{"This is Thames Valley Police.", "Barclays Bank.", "This is Thames Valley Police."} {
		sp, err := v.Speak(voices.Line{SNR: 25, Seed: 1}, text)
		if err != nil {
			t.Fatal(err)
		}
		a, err := g.Hear("forces")
		if err != nil {
			t.Fatal(err)
		}
		var dec speech.Decoder
		spoke := false
		for off := 0; off < len(sp.Ulaw); off += 160 {
			s, err := a.Write(dec.Decode(speech.PCMU, sp.Ulaw[off:min(off+160, len(sp.Ulaw))]))
			if err != nil {
				t.Fatal(err)
			}
			spoke = spoke || s
		}
		h, err := a.End()
		want := strings.ToLower(strings.TrimSuffix(text, "."))
		if err != nil || h.Words != want || !spoke || h.Spoken <= 0 || h.Unexplained > 300*time.Millisecond {
			t.Errorf("%q heard as %+v (speech heard: %v), %v", text, h, spoke, err)
		}
		if _, err := a.End(); err == nil {
			t.Error("an answer ended twice")
		}
		if before, ok := heard[text]; ok && before.Words != h.Words {
			t.Errorf("%q heard as %+v, then as %+v", text, before, h)
		}
		heard[text] = h
	}
}

// Every decoder busy: the next answer is refused with ErrBusy, and heard once one is free.
func TestGrammarBusy(t *testing.T) {
	g := forceGrammar(t, 1)
	a, err := g.Hear("forces")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Hear("forces"); !errors.Is(err, speech.ErrBusy) {
		t.Errorf("second answer: %v; want ErrBusy", err)
	}
	if _, err := a.End(); err != nil {
		t.Fatal(err)
	}
	b, err := g.Hear("forces")
	if err != nil {
		t.Fatalf("after the first ended: %v", err)
	}
	b.End()
	if _, err := g.Hear("nothing"); err == nil || !strings.Contains(err.Error(), "nothing") {
		t.Errorf("an unknown grammar: %v", err)
	}
}

// A word no dictionary can say, or a grammar that does not parse, stops the recogniser
// from starting, named.
func TestGrammarRefusesAtStart(t *testing.T) {
	_, err := sphinx.NewGrammar(sphinx.GrammarOptions{Grammars: map[string]string{"g": "#JSGF V1.0;\ngrammar g;\npublic <g> = zzyzx police;\n"},
		Words: []string{"zzyzx", "police"}})
	if err == nil || !strings.Contains(err.Error(), "zzyzx") {
		t.Errorf("an unknown word: %v", err)
	}
	_, err = sphinx.NewGrammar(sphinx.GrammarOptions{Grammars: map[string]string{"broken": "#JSGF V1.0;\ngrammar g;\npublic <g> = (police;\n"},
		Words: []string{"police"}})
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("a grammar that does not parse: %v", err)
	}
	if _, err := sphinx.NewGrammar(sphinx.GrammarOptions{}); err == nil {
		t.Error("no grammar at all: no error")
	}
}
