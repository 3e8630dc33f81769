// Package garble makes clean transcripts look like a speech recogniser's, to measure how the
// scam detector holds up when words come out wrong. Each word is, with a probability set
// from the word error rate asked for, dropped, replaced by a word that sounds like it, or
// split into two words that together sound like it ("withdraw" → "with draw") — the errors a
// recogniser makes on a telephone line. "Sounds like" is read from a pronouncing dictionary
// in CMUdict's format (Debian's pocketsphinx-en-us ships one): a replacement is a word whose
// phones differ by one phone inserted, deleted or changed.
//
// The same seed, call and segment give the same output: figures measured on garbled text
// are repeatable.
package garble

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
)

// DefaultDict is where Debian's pocketsphinx-en-us puts its pronouncing dictionary.
const DefaultDict = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"

// Garbler corrupts text. It is safe for concurrent use.
type Garbler struct {
	pron   map[string]string   // word → its first pronunciation, phones separated by spaces
	byPron map[string][]string // pronunciation → the words said so, sorted
	// near maps a pronunciation with one phone deleted to the words that reduce to it:
	// two words sharing such a key differ by one phone.
	near map[string][]string
}

// Load reads a pronouncing dictionary: one word per line, then its phones ("withdraw W IH0
// DH D R AO1"); alternative pronunciations ("word(2)") and stress marks are ignored.
func Load(r io.Reader) (*Garbler, error) {
	g := &Garbler{pron: map[string]string{}, byPron: map[string][]string{}, near: map[string][]string{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], ";;;") {
			continue
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("garble: dictionary line %d: a word without phones", n)
		}
		w := strings.ToLower(f[0])
		if !plain(w) || g.pron[w] != "" {
			continue
		}
		phones := make([]string, len(f)-1)
		for i, p := range f[1:] {
			phones[i] = strings.TrimRight(p, "012")
		}
		p := strings.Join(phones, " ")
		g.pron[w] = p
		g.byPron[p] = append(g.byPron[p], w)
		for i := range phones {
			k := deleteAt(phones, i)
			g.near[k] = append(g.near[k], w)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("garble: %w", err)
	}
	if len(g.pron) == 0 {
		return nil, fmt.Errorf("garble: the dictionary has no words")
	}
	for _, m := range []map[string][]string{g.byPron, g.near} {
		for k := range m {
			sort.Strings(m[k])
		}
	}
	return g, nil
}

// plain says whether w is a word a recogniser writes: letters only, and not a hesitation the
// dictionary spells ("uh", "mm") or a letter's name ("i.").
func plain(w string) bool {
	for _, r := range w {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	switch w {
	case "", "uh", "uhh", "um", "umm", "mm", "mmm", "hm", "hmm", "shh", "ah", "eh", "er", "oh":
		return false
	}
	return len(w) > 1 || w == "a" || w == "i"
}

func deleteAt(phones []string, i int) string {
	return strings.Join(append(append([]string{}, phones[:i]...), phones[i+1:]...), " ")
}

// Counts says what Garble did, in the terms of word error rate: (Sub + Del + Ins) / Words.
type Counts struct {
	Words, Sub, Del, Ins int
}

// Add sums counts.
func (c *Counts) Add(o Counts) {
	c.Words += o.Words
	c.Sub += o.Sub
	c.Del += o.Del
	c.Ins += o.Ins
}

// WER is the word error rate the changes amount to.
func (c Counts) WER() float64 {
	if c.Words == 0 {
		return 0
	}
	return float64(c.Sub+c.Del+c.Ins) / float64(c.Words)
}

// The mix of errors: of the words changed, this share is dropped, this split (where the
// word splits into two), the rest replaced. A split costs two errors (a substitution and an
// insertion), so a word that can split is changed a little less often, to keep the rate.
const (
	dropShare  = 0.3
	splitShare = 0.2
)

// Garble returns text with about rate of its words in error, drawn from seed, the call and
// the segment's index, and what it changed.
func (g *Garbler) Garble(text string, rate float64, seed uint64, call string, segment int) (string, Counts) {
	h := fnv.New64a()
	io.WriteString(h, call)
	rng := rand.New(rand.NewPCG(seed^h.Sum64(), uint64(segment)))
	words := strings.Fields(strings.ToLower(text))
	out := make([]string, 0, len(words)+4)
	c := Counts{Words: len(words)}
	for _, w := range words {
		a, b, splits := g.split(w, rng)
		p := rate
		if splits {
			p = rate / (1 + splitShare)
		}
		if rng.Float64() >= p {
			out = append(out, w)
			continue
		}
		x := rng.Float64()
		if splits && x >= dropShare && x < dropShare+splitShare {
			out = append(out, a, b)
			c.Sub++
			c.Ins++
			continue
		}
		if x >= dropShare {
			if s, ok := g.soundAlike(w, rng); ok {
				out = append(out, s)
				c.Sub++
				continue
			}
		}
		c.Del++
	}
	return strings.Join(out, " "), c
}

// soundAlike picks a word whose pronunciation is w's with one phone changed, inserted or
// deleted, or a homophone.
func (g *Garbler) soundAlike(w string, rng *rand.Rand) (string, bool) {
	p, ok := g.pron[w]
	if !ok {
		return "", false
	}
	phones := strings.Fields(p)
	seen := map[string]bool{w: true}
	var cands []string
	add := func(ws []string) {
		for _, c := range ws {
			if !seen[c] {
				seen[c] = true
				cands = append(cands, c)
			}
		}
	}
	add(g.byPron[p]) // homophones
	add(g.near[p])   // one phone more
	for i := range phones {
		k := deleteAt(phones, i)
		add(g.byPron[k]) // one phone fewer
		add(g.near[k])   // one phone changed
	}
	if len(cands) == 0 {
		return "", false
	}
	return cands[rng.IntN(len(cands))], true
}

// split cuts w's pronunciation in two places both of which are words ("withdraw" → "with
// draw", "account" → "a count").
func (g *Garbler) split(w string, rng *rand.Rand) (string, string, bool) {
	p, ok := g.pron[w]
	if !ok {
		return "", "", false
	}
	phones := strings.Fields(p)
	if len(phones) < 4 {
		return "", "", false // "my" is not heard as "mm ai"
	}
	type cut struct{ a, b string }
	var cuts []cut
	for k := 1; k < len(phones); k++ {
		as, bs := g.byPron[strings.Join(phones[:k], " ")], g.byPron[strings.Join(phones[k:], " ")]
		if len(as) > 0 && len(bs) > 0 {
			cuts = append(cuts, cut{as[0], bs[0]})
		}
	}
	if len(cuts) == 0 {
		return "", "", false
	}
	c := cuts[rng.IntN(len(cuts))]
	return c.a, c.b, true
}
