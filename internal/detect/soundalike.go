package detect

import (
	_ "embed"
	"fmt"
	"strings"
)

// A recogniser that mishears a word writes one that sounds like it: "warren" for
// "warrant", "a count" for "account", "micro soft" for "microsoft". soundalike.txt, built by
// `make soundalike` from Debian's pronouncing dictionary, lists such words and pairs of
// words for every word the rules name; a word of the text that no rule names, or a pair of
// words, is read as the rule word it sounds like. The evidence keeps the words heard.

//go:embed soundalike.txt
var soundalikeTable string

var (
	alikeWord map[string]int32 // heard word → vocabulary id of the rule word it sounds like
	alikePair map[string]int32 // "heard pair" → the same
)

func init() {
	alikeWord, alikePair = map[string]int32{}, map[string]int32{}
	for n, line := range strings.Split(soundalikeTable, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		heard, key, ok := strings.Cut(line, "\t")
		id, known := rulesVocab.ids[key]
		if !ok || !known {
			panic(fmt.Sprintf("detect: soundalike.txt line %d: %q is not a rule word: run `make soundalike`", n+1, key))
		}
		if strings.Contains(heard, " ") {
			alikePair[heard] = id
		} else {
			alikeWord[heard] = id
		}
	}
}
