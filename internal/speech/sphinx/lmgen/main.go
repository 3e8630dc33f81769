// Command lmgen builds the pocketsphinx domain model from the detector's training corpus:
// a trigram language model (ARPA), the dictionary of its words taken from Debian's
// CMU dictionary, and the keyphrase list, into internal/speech/sphinx/model. The output is
// deterministic; `make lm` runs it and a test checks the committed files match.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

func main() {
	corpus := flag.String("corpus", "testdata/detect/train.jsonl", "the detector's training corpus")
	dictPath := flag.String("dict", filepath.Join(sphinx.DefaultModelDir, "cmudict-en-us.dict"), "Debian's CMU pronouncing dictionary")
	out := flag.String("out", "internal/speech/sphinx/model", "where to write clearline.lm, clearline.dict and keyphrases.txt")
	flag.Parse()
	if err := run(*corpus, *dictPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "lmgen:", err)
		os.Exit(1)
	}
}

func run(corpus, dictPath, out string) error {
	dict, err := readDict(dictPath)
	if err != nil {
		return err
	}
	f, err := os.Open(corpus)
	if err != nil {
		return err
	}
	defer f.Close()
	calls, errs := detect.ReadTranscripts(f, false)
	if len(errs) > 0 {
		return fmt.Errorf("%s: %v", corpus, errs[0])
	}
	var sentences []string
	for _, c := range calls {
		for _, s := range c.Segments {
			sentences = append(sentences, s.Text)
		}
	}
	files, err := sphinx.BuildModel(sentences, dict)
	if err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d bytes\n", filepath.Join(out, name), len(b))
	}
	return nil
}

// readDict reads Debian's dictionary.
func readDict(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w (install Debian's pocketsphinx-en-us)", err)
	}
	defer f.Close()
	return sphinx.ReadDict(f)
}
