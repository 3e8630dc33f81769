package detect

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

// Model is the learned part: a logistic regression over the indicators found, a few of their
// combinations, and the words (unigrams and bigrams) of the call.
type Model struct {
	Bias       float64            `json:"bias"`
	Indicators map[string]float64 `json:"indicators"`
	Pairs      map[string]float64 `json:"pairs"`
	Ngrams     map[string]float64 `json:"ngrams"`

	ind   [len(indicatorNames)]float64
	pairs [len(pairDefs)]float64
}

// ngramScale damps the words' part against the indicators': the corpus is written by us and
// its wording must not outweigh what the rules find.
const ngramScale = 0.5

// pairDefs are the combinations that make a scam script: no genuine police officer or bank
// joins these.
// The first five read every finding; the rest, the parts of a scam's shape (see floor), only
// findings in wordings that count toward it.
var pairDefs = [...]struct {
	name  string
	a, b  []Indicator
	shape bool
}{
	{"authority+money", []Indicator{AuthorityClaim}, moneyAsks, false},
	{"money+pressure", moneyAsks, pressures, false},
	{"authority+pressure", []Indicator{AuthorityClaim}, pressures, false},
	{"courier+valuables", []Indicator{CourierCollection}, []Indicator{CashWithdrawal, CardOrPINRequest, HighValuePurchase}, false},
	{"access+credentials", []Indicator{RemoteAccess}, []Indicator{PersonalDetails, SafeAccountTransfer, CardOrPINRequest}, false},
	{"claim+hook", claims, hooks, true},
	{"claim+prompt", claims, prompts, true},
	{"claim+ask", claims, asks, true},
	{"hook+prompt", hooks, prompts, true},
	{"hook+ask", hooks, asks, true},
	{"prompt+ask", prompts, asks, true},
	{"company+hook", []Indicator{CompanyClaim}, hooks, true},
	{"relative+hook", []Indicator{RelativeClaim}, hooks, true},
}

var (
	moneyAsks = []Indicator{CashWithdrawal, CourierCollection, CardOrPINRequest, SafeAccountTransfer, HighValuePurchase, RemoteAccess}
	pressures = []Indicator{Secrecy, UrgencyOrThreat, CallbackTrick, DictatedNumber}
)

func anyOf(found []bool, ks []Indicator) bool {
	for _, k := range ks {
		if found[k] {
			return true
		}
	}
	return false
}

// pairsPresent says which pair features are on.
func pairsPresent(found, strong []bool) [len(pairDefs)]bool {
	var p [len(pairDefs)]bool
	for i, d := range pairDefs {
		on := found
		if d.shape {
			on = strong
		}
		p[i] = anyOf(on, d.a) && anyOf(on, d.b)
	}
	return p
}

// ruleZ is the model's log-odds from the bias, the indicators and the pairs.
func (m *Model) ruleZ(found, strong []bool) float64 {
	z := m.Bias
	for k := 1; k < len(indicatorNames); k++ {
		if found[k] {
			z += m.ind[k]
		}
	}
	for i, on := range pairsPresent(found, strong) {
		if on {
			z += m.pairs[i]
		}
	}
	return z
}

func (m *Model) ngram(g string) float64 { return m.Ngrams[g] * ngramScale }

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// index fills the arrays from the named maps after decoding.
func (m *Model) index() error {
	for name := range m.Indicators {
		var k Indicator
		if err := k.UnmarshalText([]byte(name)); err != nil {
			return fmt.Errorf("model: %w", err)
		}
		m.ind[k] = m.Indicators[name]
	}
	for i, d := range pairDefs {
		m.pairs[i] = m.Pairs[d.name]
	}
	return nil
}

// ParseModel reads a model written by Marshal.
func ParseModel(b []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return &m, m.index()
}

// Marshal writes the model as indented JSON with sorted keys, the same bytes for the same model.
func (m *Model) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

//go:embed model.json
var modelJSON []byte

func builtinModel() *Model {
	m, err := ParseModel(modelJSON)
	if err != nil {
		panic("detect: built-in model: " + err.Error())
	}
	return m
}

// addNgrams adds the unigrams and bigrams of normalised text to set and returns the ones new.
func addNgrams(set map[string]struct{}, text string, add func(string)) {
	f := strings.Fields(text)
	for i, w := range f {
		if _, ok := set[w]; !ok {
			set[w] = struct{}{}
			add(w)
		}
		if i > 0 {
			g := f[i-1] + " " + w
			if _, ok := set[g]; !ok {
				set[g] = struct{}{}
				add(g)
			}
		}
	}
}

// Example is one labelled call for training: its segments, and whether it is a scam.
type Example struct {
	Segments []Segment
	Scam     bool
}

// TrainOptions tune Train; the zero value is the project's choice.
type TrainOptions struct {
	// MinCount is how many training calls a word must appear in to be learned (default 3).
	MinCount int
	// Epochs of full-batch gradient descent (default 3000).
	Epochs int
	// L2 regularisation (default 0.001), applied to the words ten times as hard.
	L2 float64
}

// Train fits a model to examples. It is deterministic: the same examples give the same
// model, bit for bit (fixed order, no randomness, full-batch updates).
func Train(examples []Example, o TrainOptions) *Model {
	if o.MinCount == 0 {
		o.MinCount = 3
	}
	if o.Epochs == 0 {
		o.Epochs = 3000
	}
	if o.L2 == 0 {
		o.L2 = 0.001
	}
	empty := &Model{Indicators: map[string]float64{}, Pairs: map[string]float64{}, Ngrams: map[string]float64{}}
	d := WithModel(empty)
	type row struct {
		found [len(indicatorNames)]bool
		pairs [len(pairDefs)]bool
		grams []int
		y     float64
	}
	rows := make([]row, len(examples))
	df := map[string]int{}
	callGrams := make([][]string, len(examples))
	for i, ex := range examples {
		c := d.NewCall()
		for _, s := range ex.Segments {
			c.Feed(s)
		}
		rows[i].found = c.found
		rows[i].pairs = pairsPresent(c.found[:], c.strong[:])
		if ex.Scam {
			rows[i].y = 1
		}
		gs := make([]string, 0, len(c.words))
		for g := range c.words {
			gs = append(gs, g)
		}
		sort.Strings(gs)
		callGrams[i] = gs
		for _, g := range gs {
			df[g]++
		}
	}
	var vocab []string
	for g, n := range df {
		if n >= o.MinCount {
			vocab = append(vocab, g)
		}
	}
	sort.Strings(vocab)
	index := make(map[string]int, len(vocab))
	for i, g := range vocab {
		index[g] = i
	}
	for i, gs := range callGrams {
		for _, g := range gs {
			if j, ok := index[g]; ok {
				rows[i].grams = append(rows[i].grams, j)
			}
		}
	}

	var bias float64
	var wInd [len(indicatorNames)]float64
	var wPair [len(pairDefs)]float64
	wGram := make([]float64, len(vocab))
	n := float64(len(rows))
	const lr = 0.5
	for range o.Epochs {
		var gBias float64
		var gInd [len(indicatorNames)]float64
		var gPair [len(pairDefs)]float64
		gGram := make([]float64, len(vocab))
		for _, r := range rows {
			z := bias
			for k, on := range r.found {
				if on {
					z += wInd[k]
				}
			}
			for k, on := range r.pairs {
				if on {
					z += wPair[k]
				}
			}
			for _, j := range r.grams {
				z += wGram[j] * ngramScale
			}
			e := sigmoid(z) - r.y
			gBias += e
			for k, on := range r.found {
				if on {
					gInd[k] += e
				}
			}
			for k, on := range r.pairs {
				if on {
					gPair[k] += e
				}
			}
			for _, j := range r.grams {
				gGram[j] += e * ngramScale
			}
		}
		bias -= lr * gBias / n
		for k := range wInd {
			wInd[k] -= lr * (gInd[k]/n + o.L2*wInd[k])
		}
		for k := range wPair {
			wPair[k] -= lr * (gPair[k]/n + o.L2*wPair[k])
		}
		for j := range wGram {
			wGram[j] -= lr * (gGram[j]/n + 10*o.L2*wGram[j])
		}
	}
	m := &Model{Bias: round(bias), Indicators: map[string]float64{}, Pairs: map[string]float64{}, Ngrams: map[string]float64{}}
	for k := 1; k < len(indicatorNames); k++ {
		m.Indicators[Indicator(k).String()] = round(wInd[k])
	}
	for i, p := range pairDefs {
		m.Pairs[p.name] = round(wPair[i])
	}
	for j, g := range vocab {
		if w := round(wGram[j]); math.Abs(w) >= 0.01 {
			m.Ngrams[g] = w
		}
	}
	if err := m.index(); err != nil {
		panic(err) // names come from this package
	}
	return m
}

// round keeps four decimals, so the stored model reads well and survives JSON exactly.
func round(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// TrainFiles trains on labelled JSON Lines corpora, in order, with the project's options.
func TrainFiles(paths ...string) (*Model, error) {
	var examples []Example
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		calls, errs := ReadTranscripts(f, true)
		f.Close()
		if len(errs) > 0 {
			return nil, fmt.Errorf("%s: %v", path, errs[0])
		}
		for _, t := range calls {
			examples = append(examples, Example{Segments: t.Segments, Scam: t.Label == "scam"})
		}
	}
	return Train(examples, TrainOptions{}), nil
}
