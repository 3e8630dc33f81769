package garble

import (
	"math"
	"strings"
	"testing"
)

const dict = `withdraw W IH0 DH D R AO1
with W IH1 DH
draw D R AO1
drew D R UW1
the DH AH0
a AH0
count K AW1 N T
account AH0 K AW1 N T
counts K AW1 N T S
cash K AE1 SH
catch K AE1 CH
cashed K AE1 SH T
pounds P AW1 N D Z
pound P AW1 N D
bounds B AW1 N D Z
courier K UH1 R IY0 ER0
curry K ER1 IY0
are AA1 R
courier(2) K ER1 IY0 ER0
`

func load(t *testing.T) *Garbler {
	g, err := Load(strings.NewReader(dict))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSplitAndSoundAlike(t *testing.T) {
	g := load(t)
	splits := map[string]bool{}
	subs := map[string]bool{}
	for seed := range uint64(200) {
		out, c := g.Garble("withdraw account cash pounds", 1.2, seed, "call", 0)
		words := strings.Fields(out)
		if c.Words != 4 || len(words) != 4-c.Del+c.Ins {
			t.Fatalf("counts %+v do not add up to %q", c, out)
		}
		if strings.Contains(out, "with draw") {
			splits["with draw"] = true
		}
		if strings.Contains(out, "a count") {
			splits["a count"] = true
		}
		for _, w := range words {
			subs[w] = true
		}
	}
	for _, want := range []string{"with draw", "a count"} {
		if !splits[want] {
			t.Errorf("never split into %q", want)
		}
	}
	// One phone changed (cash → catch), added (cash → cashed) or removed (pounds → pound).
	for _, want := range []string{"catch", "cashed", "pound", "bounds"} {
		if !subs[want] {
			t.Errorf("%q never appeared as a sound-alike", want)
		}
	}
	for w := range subs {
		if w == "curry" || w == "are" {
			continue // a split of courier, not asked for here
		}
		if _, ok := g.pron[w]; !ok {
			t.Errorf("garbled word %q is not a dictionary word", w)
		}
	}
}

func TestRateAndRepeatability(t *testing.T) {
	g := load(t)
	text := strings.Repeat("withdraw the cash in pounds from the account ", 50)
	for _, rate := range []float64{0.3, 0.5} {
		var total Counts
		for i := range 20 {
			_, c := g.Garble(text, rate, 7, "c1", i)
			total.Add(c)
		}
		if got := total.WER(); math.Abs(got-rate) > 0.05 {
			t.Errorf("asked for %.2f word error, got %.3f (%+v)", rate, got, total)
		}
	}
	a, _ := g.Garble(text, 0.3, 7, "c1", 3)
	b, _ := g.Garble(text, 0.3, 7, "c1", 3)
	c, _ := g.Garble(text, 0.3, 7, "c1", 4)
	if a != b || a == c {
		t.Error("the same seed, call and segment must give the same text, and another segment other text")
	}
	if out, n := g.Garble(text, 0, 7, "c1", 0); n.WER() != 0 || out != strings.Join(strings.Fields(text), " ") {
		t.Error("rate 0 changed the text")
	}
}

func TestBadDictionary(t *testing.T) {
	if _, err := Load(strings.NewReader("lonely\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a word without phones: %v", err)
	}
	if _, err := Load(strings.NewReader("")); err == nil {
		t.Error("an empty dictionary was accepted")
	}
}
