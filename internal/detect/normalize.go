package detect

import (
	"strconv"
	"strings"
	"unicode"
)

// normalize turns a transcript segment into the form the rules read: lowercase words
// separated by single spaces, no punctuation, numbers spoken as words written as digits,
// and the splits and mishearings speech recognisers are known to make put back together.
func normalize(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range text {
		switch {
		case r == '\'' || r == '’':
			continue // "don't" and "dont" read alike
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	s := b.String()
	s = joinDigits(spellNumbers(s))
	// Twice: a replacement takes the space after it, so the fix of the next word ("dont ill
	// wait") waits for a second pass.
	return fixes.Replace(fixes.Replace(s))
}

// fixes repairs words that recognisers split or mishear. Each key and value is padded with
// spaces so only whole words are replaced.
var fixes = strings.NewReplacer(pad(
	"with draw", "withdraw",
	"with drawal", "withdrawal",
	"with drew", "withdrew",
	"any desk", "anydesk",
	"team viewer", "teamviewer",
	"metro politan", "metropolitan",
	"met police", "metropolitan police",
	"scotland yard", "metropolitan police",
	"safe a count", "safe account",
	"a count", "account",
	"cur ier", "courier",
	"curry are", "courier",
	"currier", "courier",
	"cashiers", "cashier",
	"cash here", "cashier",
	"sargent", "sergeant",
	"sarge ant", "sergeant",
	"con stable", "constable",
	"detect of", "detective",
	"pin number", "pin",
	"pin code", "pin",
	"p i n", "pin",
	"pen number", "pin",
	"digit pen", "digit pin",
	"envelop", "envelope",
	"envelopes", "envelope",
	"h m r c", "hmrc",
	"c v v", "cvv",
	"gift card", "giftcard",
	"gift cards", "giftcard",
	"on line", "online",
	"bit coin", "bitcoin",
	"pay pal", "paypal",
	"e bay", "ebay",
	"i cloud", "icloud",
	"i tunes", "itunes",
	"net flix", "netflix",
	"face book", "facebook",
	"whats app", "whatsapp",
	"mac afee", "mcafee",
	"micro soft", "microsoft",
	"h m revenue", "hm revenue",
	"money gram", "moneygram",
	"crypto currency", "cryptocurrency",
	"never mind", "nevermind",
	"dont", "do not",
	"doesnt", "does not",
	"mustnt", "must not",
	"wont", "will not",
	"cant", "can not",
	"cannot", "can not",
	"im", "i am",
	"ill stay", "i will stay",
	"ill hold", "i will hold",
	"ill wait", "i will wait",
	"ill keep", "i will keep",
	"ill be", "i will be",
	"ill send", "i will send",
	"ill call", "i will call",
	"ill ring", "i will ring",
	"ill give", "i will give",
	"ill need", "i will need",
	"ill come", "i will come",
	"ill do", "i will do",
	"ill move", "i will move",
	"ill transfer", "i will transfer",
	"ill get", "i will get",
	"youre", "you are",
	"its", "it is",
	"thats", "that is",
	"theres", "there is",
	"weve", "we have",
	"ive", "i have",
)...)

func pad(pairs ...string) []string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = " " + p + " "
	}
	return out
}

var numberWords = map[string]string{
	"zero": "0", "oh": "0", "o": "0", "nought": "0",
	"one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
	"six": "6", "seven": "7", "eight": "8", "nine": "9",
}

var scaleWords = map[string]string{
	"ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20", "thirty": "30",
	"forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "grand": "1000",
}

// spellNumbers writes digits for number words. Runs of single digits ("one oh one",
// "nine nine nine") become one number; "oh" and "o" count only inside such a run.
func spellNumbers(s string) string {
	words := strings.Fields(s)
	out := make([]string, 0, len(words))
	for i := 0; i < len(words); i++ {
		w := words[i]
		if d, ok := numberWords[w]; ok {
			run := d
			j := i + 1
			for ; j < len(words); j++ {
				d2, ok := numberWords[words[j]]
				if !ok {
					break
				}
				run += d2
			}
			if j == i+1 && !countsAlone(w, words, j) {
				out = append(out, w) // "oh dear", "no one", "one of our officers"
				continue
			}
			out = append(out, run)
			i = j - 1
			continue
		}
		if n, ok := scaleWords[w]; ok {
			// "five thousand" is 5000, "two hundred" 200.
			if last := len(out) - 1; (n == "100" || n == "1000") && last >= 0 && isDigits(out[last]) && len(out[last]) <= 3 {
				if v, err := strconv.Atoi(out[last]); err == nil {
					out[last] = strconv.Itoa(v * map[string]int{"100": 100, "1000": 1000}[n])
					continue
				}
			}
			out = append(out, n)
			continue
		}
		out = append(out, w)
	}
	return " " + strings.Join(out, " ") + " "
}

// countsAlone says whether a lone digit word is a number: "oh" and "o" never are, "one"
// only before a scale or a unit ("one hundred", "one pound").
func countsAlone(w string, words []string, next int) bool {
	switch w {
	case "oh", "o":
		return false
	case "one":
		if next >= len(words) {
			return false
		}
		_, scale := scaleWords[words[next]]
		return scale || words[next] == "pound" || words[next] == "pounds" || words[next] == "point"
	}
	return true
}

// joinDigits makes "0 7 7 0 0" and "0770 090 0123" one number, as a caller dictating a
// phone number in groups is heard.
func joinDigits(s string) string {
	words := strings.Fields(s)
	out := make([]string, 0, len(words))
	for _, w := range words {
		if n := len(out); n > 0 && isDigits(w) && isDigits(out[n-1]) && !isScale(w) && !isScale(out[n-1]) {
			out[n-1] += w
			continue
		}
		out = append(out, w)
	}
	return " " + strings.Join(out, " ") + " "
}

func isDigits(w string) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return w != ""
}

func isScale(w string) bool {
	switch w {
	case "10", "11", "12", "15", "20", "30", "40", "50", "100", "1000":
		return true
	}
	return false
}
