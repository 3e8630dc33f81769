package sphinx

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// ReadDict reads a CMU pronouncing dictionary: each word's first pronunciation.
func ReadDict(r io.Reader) (map[string]string, error) {
	dict := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		w, pron, ok := strings.Cut(sc.Text(), " ")
		if ok && !strings.Contains(w, "(") {
			dict[w] = strings.TrimSpace(pron)
		}
	}
	return dict, sc.Err()
}

// Keyphrases are what keyphrase mode listens for: phrases of the detector's rules, long
// enough to be spotted (single short words are found everywhere in noise).
var Keyphrases = []string{
	"detective sergeant", "detective constable", "police officer", "fraud squad",
	"fraud department", "fraud team", "from the police", "from your bank",
	"withdraw cash", "withdraw the money", "take out cash", "as evidence",
	"courier will collect", "send a courier", "a courier", "collect the money", "collect the cash",
	"put it in an envelope", "your bank card", "your pin", "pin number", "card details",
	"safe account", "secure account", "transfer the money", "move your money",
	"do not tell", "don't tell anyone", "confidential", "under investigation",
	"cashier is involved", "arrested", "you will lose", "right away",
	"hang up and ring", "ring one oh one", "stay on the line", "i will hold",
	"gold bars", "gift cards", "remote access", "one time code", "security code",
}

// BuildModel makes the embedded model files from corpus sentences and a pronouncing
// dictionary: the domain trigram model over the words the dictionary knows, that
// vocabulary's dictionary, and the keyphrase list with thresholds by length.
func BuildModel(sentences []string, dict map[string]string) (map[string][]byte, error) {
	known := func(w string) bool { _, ok := dict[w]; return ok }
	lm := BuildLM(sentences, known)
	var arpa bytes.Buffer
	if err := lm.WriteARPA(&arpa); err != nil {
		return nil, err
	}
	var d bytes.Buffer
	for _, w := range lm.Words() {
		fmt.Fprintf(&d, "%s %s\n", w, dict[w])
	}
	var k bytes.Buffer
	for _, p := range Keyphrases {
		phones := 0
		for _, w := range strings.Fields(p) {
			pron, ok := dict[w]
			if !ok {
				return nil, fmt.Errorf("keyphrase %q: %q is not in the dictionary", p, w)
			}
			phones += len(strings.Fields(pron))
		}
		// Longer phrases need a lower threshold to be found at all; short ones a higher
		// one not to be found everywhere. 1e-(4 x phones) was the best of 3, 4, 5 and 6
		// on the test scripts: at 5 and above benign calls "say" do not tell and your pin.
		fmt.Fprintf(&k, "%s /1e-%d/\n", p, min(60, max(5, 4*phones)))
	}
	return map[string][]byte{"clearline.lm": arpa.Bytes(), "clearline.dict": d.Bytes(), "keyphrases.txt": k.Bytes()}, nil
}
