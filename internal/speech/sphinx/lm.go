package sphinx

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Discount is the absolute discount taken from every seen n-gram's count and given to the
// lower orders (absolute discounting with back-off, as in Ney, Essen and Kneser 1994).
const Discount = 0.7

// LM is a back-off trigram language model over a closed vocabulary, written in ARPA format
// for pocketsphinx. It is built from sentences of the detector's corpus, so the recogniser
// expects the words of genuine and scam calls rather than of general English.
type LM struct {
	counts  [3]map[string]int     // n-gram (words joined by spaces) -> count, for n = 1..3
	probs   [3]map[string]float64 // the seen n-grams' probabilities, once estimated
	backoff [2]map[string]float64 // the back-off weights of uni- and bigram histories
}

// BuildLM counts the n-grams of sentences (lowercase words separated by spaces), keeping only
// words known reports true for; a sentence is cut where an unknown word stands.
func BuildLM(sentences []string, known func(string) bool) *LM {
	lm := &LM{}
	for i := range lm.counts {
		lm.counts[i] = map[string]int{}
	}
	for _, s := range sentences {
		var run []string
		flush := func() {
			if len(run) > 0 {
				lm.add(append(append([]string{"<s>"}, run...), "</s>"))
			}
			run = run[:0]
		}
		for _, w := range strings.Fields(s) {
			if known(w) {
				run = append(run, w)
			} else {
				flush()
			}
		}
		flush()
	}
	return lm
}

func (lm *LM) add(ws []string) {
	for n := 1; n <= 3; n++ {
		for i := 0; i+n <= len(ws); i++ {
			lm.counts[n-1][strings.Join(ws[i:i+n], " ")]++
		}
	}
}

// Words is the model's vocabulary, sorted, without the sentence markers.
func (lm *LM) Words() []string {
	var out []string
	for w := range lm.counts[0] {
		if w != "<s>" && w != "</s>" {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

// estimate computes the probabilities and back-off weights from the counts.
func (lm *LM) estimate() {
	if lm.probs[0] != nil {
		return
	}
	probs := [3]map[string]float64{{}, {}, {}}
	// Unigrams: relative frequencies (the vocabulary is closed).
	total := 0
	for g, c := range lm.counts[0] {
		if g != "<s>" {
			total += c
		}
	}
	for g, c := range lm.counts[0] {
		if g != "<s>" {
			probs[0][g] = float64(c) / float64(total)
		}
	}
	// Higher orders: (c(h w) - D) / c(h), with h's count taken from the order below.
	for n := 2; n <= 3; n++ {
		for g, c := range lm.counts[n-1] {
			h := g[:strings.LastIndexByte(g, ' ')]
			// Every occurrence of h is followed by a word (at least </s>).
			probs[n-1][g] = (float64(c) - Discount) / float64(lm.counts[n-2][h])
		}
	}
	lm.probs = probs
	// Back-off weights: what the discounting left for h, over what the lower order gives
	// the words not seen after h.
	lm.backoff = [2]map[string]float64{{}, {}}
	for n := 2; n <= 3; n++ {
		left, lower := map[string]float64{}, map[string]float64{}
		for g, p := range probs[n-1] {
			h := g[:strings.LastIndexByte(g, ' ')]
			left[h] += p
			lower[h] += lm.Prob(g[strings.IndexByte(g, ' ')+1:])
		}
		for h := range left {
			lm.backoff[n-2][h] = (1 - left[h]) / (1 - lower[h])
		}
	}
}

// Prob is the model's probability of an n-gram's last word given the words before it
// (at most two), backing off to shorter histories for unseen n-grams.
func (lm *LM) Prob(g string) float64 {
	lm.estimate()
	n := strings.Count(g, " ") + 1
	if p, ok := lm.probs[n-1][g]; ok {
		return p
	}
	if n == 1 {
		return 0
	}
	h := g[:strings.LastIndexByte(g, ' ')]
	b, ok := lm.backoff[n-2][h]
	if !ok {
		b = 1
	}
	return b * lm.Prob(g[strings.IndexByte(g, ' ')+1:])
}

// WriteARPA writes the model. Output is deterministic: n-grams in sorted order.
func (lm *LM) WriteARPA(w io.Writer) error {
	lm.estimate()
	probs, backoff := lm.probs, lm.backoff
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "\\data\\\n")
	fmt.Fprintf(bw, "ngram 1=%d\n", len(lm.counts[0]))
	fmt.Fprintf(bw, "ngram 2=%d\n", len(lm.counts[1]))
	fmt.Fprintf(bw, "ngram 3=%d\n", len(lm.counts[2]))
	for n := 1; n <= 3; n++ {
		fmt.Fprintf(bw, "\n\\%d-grams:\n", n)
		for _, g := range sortedKeys(lm.counts[n-1]) {
			lp := -99.0
			if p, ok := probs[n-1][g]; ok {
				lp = math.Log10(p)
			}
			fmt.Fprintf(bw, "%.4f %s", lp, g)
			if n < 3 {
				if b, ok := backoff[n-1][g]; ok {
					fmt.Fprintf(bw, " %.4f", math.Log10(b))
				} else if g != "</s>" {
					fmt.Fprintf(bw, " 0.0000")
				}
			}
			bw.WriteByte('\n')
		}
	}
	fmt.Fprintf(bw, "\n\\end\\\n")
	return bw.Flush()
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
