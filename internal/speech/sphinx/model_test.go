package sphinx

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/detect"
)

// The committed domain model is exactly what `make lm` builds from the committed corpus
// and Debian's dictionary.
func TestEmbeddedModelIsReproducible(t *testing.T) {
	df, err := os.Open(filepath.Join(DefaultModelDir, "cmudict-en-us.dict"))
	if err != nil {
		t.Fatalf("%v (Debian's pocketsphinx-en-us; `make test-deps` installs it)", err)
	}
	defer df.Close()
	dict, err := ReadDict(df)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../../testdata/detect/train.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	calls, errs := detect.ReadTranscripts(f, false)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	var sentences []string
	for _, c := range calls {
		for _, s := range c.Segments {
			sentences = append(sentences, s.Text)
		}
	}
	files, err := BuildModel(sentences, dict)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := model.ReadFile("model/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("model/%s differs from what `make lm` builds: run it and commit", name)
		}
	}
}

// The ARPA model is well formed: its n-gram counts match its header, every probability
// is a log10 at most 0, and the back-off weights keep each history's distribution summing
// to one (checked on a small corpus by brute force).
func TestLMIsNormalised(t *testing.T) {
	lm := BuildLM([]string{"we need you to withdraw cash", "we need you to call the bank", "you need to call", "call the bank"}, func(string) bool { return true })
	var arpa bytes.Buffer
	if err := lm.WriteARPA(&arpa); err != nil {
		t.Fatal(err)
	}
	text := arpa.String()
	for _, want := range []string{"ngram 1=11", "\\1-grams:", "\\3-grams:", "\\end\\"} {
		if !strings.Contains(text, want) {
			t.Errorf("ARPA output lacks %q:\n%s", want, text)
		}
	}
	words := append(lm.Words(), "</s>")
	for _, h := range []string{"<s>", "need", "to", "<s> we", "need you", "call the"} {
		var sum float64
		for _, w := range words {
			sum += lm.Prob(h + " " + w)
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("P(. | %s) sums to %v", h, sum)
		}
	}
}
