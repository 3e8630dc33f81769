package claim

import (
	"fmt"
	"strings"
)

// espeakPhones maps espeak-ng's phoneme mnemonics (as `espeak-ng -x` writes them) to the
// phones of the en-us acoustic model, British vowels to their nearest American ones.
var espeakPhones = map[string]string{
	"a": "AE", "A:": "AA", "A@": "AA", "aI": "AY", "aI@": "AY AH", "aU": "AW", "aU@": "AW AH",
	"@": "AH", "@L": "AH L", "@5": "AH L", "L": "L", "3": "AH", "3:": "ER", "E": "EH", "e@": "EH", "eI": "EY",
	"I": "IH", "I2": "IH", "I#": "IH", "i": "IY", "i:": "IY", "i@": "IY AH", "i@3": "IY AH", "I@": "IH AH",
	"0": "AO", "O:": "AO", "O@": "AO", "o@": "AO", "OI": "OY", "oU": "OW", "U": "UH", "u:": "UW", "U@": "UH AH",
	"V": "AH", "u": "UW", "e": "EH", "o": "OW", "aa": "AA",
	"b": "B", "d": "D", "f": "F", "g": "G", "h": "HH", "k": "K", "l": "L", "m": "M", "n": "N", "p": "P",
	"r": "R", "s": "S", "t": "T", "v": "V", "w": "W", "z": "Z", "T": "TH", "D": "DH", "S": "SH", "Z": "ZH",
	"tS": "CH", "dZ": "JH", "N": "NG", "j": "Y", "x": "K", "?": "T", "l-": "AH L", "n-": "AH N", "m-": "AH M",
}

// FromEspeak writes a word's espeak-ng phonemes in the acoustic model's phones. Stress and
// length marks, pauses and linking r are dropped.
func FromEspeak(s string) (string, error) {
	s = strings.NewReplacer("'", "", ",", "", "%", "", "=", "", "_", " ", ";", "", "#", "", "r-", "", "-", "").Replace(s)
	var out []string
	for _, word := range strings.Fields(s) {
		for len(word) > 0 {
			if word[0] == ':' {
				word = word[1:]
				continue
			}
			n := min(3, len(word))
			for ; n > 0; n-- {
				if p, ok := espeakPhones[word[:n]]; ok {
					out = append(out, p)
					word = word[n:]
					break
				}
			}
			if n == 0 {
				return "", fmt.Errorf("espeak-ng phoneme %q has no phone", word)
			}
		}
	}
	return strings.Join(out, " "), nil
}
