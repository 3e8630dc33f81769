// Package score measures a recogniser's words against what was said: word errors
// (substitutions, deletions and insertions, by edit distance) over the words said. The
// listening evaluations (`clearline listen --eval`, listeneval, the real-voice test) share it.
package score

import "strings"

// Words is text as a recogniser writes it: lowercase words of letters and apostrophes;
// punctuation and digits split words and are dropped.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '\'')
	})
}

// Errors is the number of word edits that turn hyp into ref.
func Errors(ref, hyp []string) int {
	prev := make([]int, len(hyp)+1)
	cur := make([]int, len(hyp)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(hyp); j++ {
			sub := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(hyp)]
}

// Tally adds up word errors over several recordings.
type Tally struct {
	Errors, Words int
}

// Add scores one recording: what was said and what the recogniser heard.
func (t *Tally) Add(said, heard string) (accuracy float64) {
	ref, hyp := Words(said), Words(heard)
	e := Errors(ref, hyp)
	t.Errors += e
	t.Words += len(ref)
	return Accuracy(e, len(ref))
}

// Accuracy is the tally's word accuracy: 1 - word error rate (negative when the recogniser
// inserts more words than were said).
func (t Tally) Accuracy() float64 { return Accuracy(t.Errors, t.Words) }

// Accuracy is 1 - errors/words; 0 words scores 0.
func Accuracy(errors, words int) float64 {
	if words == 0 {
		return 0
	}
	return 1 - float64(errors)/float64(words)
}
