package claim

import (
	"cmp"
	"strings"
)

var digitWords = map[string]string{"oh": "0", "zero": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
	"four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}

// Digits reads the number in words as the grammar writes them: digit by digit ("four seven
// two one"), with doubles and triples ("double four"). The digits are those of the longest
// run of number words.
func Digits(words string) string {
	var best, run strings.Builder
	w := strings.Fields(words)
	flush := func() {
		if run.Len() > best.Len() {
			best.Reset()
			best.WriteString(run.String())
		}
		run.Reset()
	}
	for i := 0; i < len(w); i++ {
		switch x := w[i]; {
		case digitWords[x] != "":
			run.WriteString(digitWords[x])
		case (x == "double" || x == "triple") && i+1 < len(w) && digitWords[w[i+1]] != "":
			n := 2
			if x == "triple" {
				n = 3
			}
			run.WriteString(strings.Repeat(digitWords[w[i+1]], n))
			i++
		default:
			flush()
		}
	}
	flush()
	return best.String()
}

// MinIDDigits and MaxIDDigits bound an ID number: police collar and warrant numbers, bank
// and government staff numbers are three to seven digits.
const MinIDDigits, MaxIDDigits = 3, 7

// ReadID adds the answer to "your ID number" to the claim: the digits keyed in, or else
// those the grammar heard. An ID number has MinIDDigits to MaxIDDigits digits; other keys
// are kept in the words only.
func (c *Catalogue) ReadID(cl Claim, h Heard) Claim {
	words := h.Words
	cl.IDNumber = Digits(words)
	if h.Keyed != "" {
		cl.IDNumber, words = h.Keyed, "(keyed "+h.Keyed+")"
	}
	if n := len(cl.IDNumber); n < MinIDDigits || n > MaxIDDigits {
		cl.IDNumber = ""
	}
	if cl.Words != "" && words != "" {
		words = cl.Words + " | " + words
	}
	cl.Words = cmp.Or(words, cl.Words)
	return cl
}
