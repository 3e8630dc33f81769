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
//
// Those exclude the common words: a recogniser that writes "dress" most likely heard
// "dress". The table's near words ("~dress press", tab-separated), one phone from a rule word, common
// ones too, are read as it only within a phrase whose other words were heard ("dress 1 to
// speak"): one to a match, and never alone (see tally in phrase.go).

//go:embed soundalike.txt
var soundalikeTable string

var (
	alikeWord map[string]int32 // heard word → vocabulary id of the rule word it sounds like
	alikePair map[string]int32 // "heard pair" → the same
	// nearWord maps a word, however common, one phone from rule words (the table's lines
	// starting "~") to its entry in nearLists: the vocabulary ids of those rule words. A near
	// word stands for one only inside a phrase whose other words were heard (see phrase.go).
	nearWord  map[string]int32
	nearLists [][]int32
)

func init() {
	alikeWord, alikePair, nearWord = map[string]int32{}, map[string]int32{}, map[string]int32{}
	for n, line := range strings.Split(soundalikeTable, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if near, ok := strings.CutPrefix(line, "~"); ok {
			heard, keys, ok := strings.Cut(near, "\t")
			var ids []int32
			for _, key := range strings.Fields(keys) {
				id, known := rulesVocab.ids[key]
				if !known {
					panic(fmt.Sprintf("detect: soundalike.txt line %d: %q is not a rule word: run `make soundalike`", n+1, key))
				}
				ids = append(ids, id)
			}
			if !ok || len(ids) == 0 {
				panic(fmt.Sprintf("detect: soundalike.txt line %d: a near word without rule words", n+1))
			}
			nearWord[heard] = int32(len(nearLists))
			nearLists = append(nearLists, ids)
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
