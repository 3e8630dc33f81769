package claim

import (
	"cmp"
	"strings"
)

var (
	digitWords = map[string]string{"oh": "0", "zero": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
		"four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
	teenWords = map[string]string{"ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
		"fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19"}
	tensWords = map[string]string{"twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6",
		"seventy": "7", "eighty": "8", "ninety": "9"}
)

// Digits reads the number in words as the grammar writes them: digit by digit ("four seven
// two one"), with doubles and triples ("double four"), or in pairs ("forty seven twenty
// one"). Other words are skipped; the digits are those of the longest run of number words.
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
		case teenWords[x] != "":
			run.WriteString(teenWords[x])
		case tensWords[x] != "":
			run.WriteString(tensWords[x])
			if i+1 < len(w) && digitWords[w[i+1]] != "" && digitWords[w[i+1]] != "0" {
				run.WriteString(digitWords[w[i+1]])
				i++
			} else {
				run.WriteString("0")
			}
		default:
			flush()
		}
	}
	flush()
	return best.String()
}

// ReadID adds what the grammar heard for "your ID number" to the claim: the digits, and the
// organisation when the caller named one there and had not before (or had named only "the
// police", and now their force).
func (c *Catalogue) ReadID(cl Claim, words string) Claim {
	cl.IDNumber = Digits(words)
	if o, ok := c.Find(words); ok && (cl.Kind == Unknown || (o.Kind == cl.Kind && generic[cl.Organisation])) {
		cl.Kind, cl.Organisation = o.Kind, o.Name
	}
	if cl.Words != "" && words != "" {
		words = cl.Words + " | " + words
	}
	cl.Words = cmp.Or(words, cl.Words)
	return cl
}

// generic are the catalogue's names for a kind as a whole, which a named one improves on.
var generic = map[string]bool{"Police": true, "Bank": true, "Government": true}
