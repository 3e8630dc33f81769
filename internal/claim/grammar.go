package claim

import (
	_ "embed"
	"regexp"
	"sort"
	"strings"
)

//go:embed answer.jsgf
var answerJSGF string

// The grammars' public rules: the answer to "who are you", and to "your ID number".
const (
	WhoGrammar = "claim"
	IDGrammar  = "id"
)

// WordPenalties are the recogniser's word insertion penalties by grammar: digits are short
// words, and at the recogniser's usual penalty it hears more of them than were said ("six" as
// "two eight"); on the voice bench 1e-3 heard a third more ID numbers exactly.
var WordPenalties = map[string]float64{IDGrammar: 1e-3}

// EveryFrame are the grammars decoded with every frame of the answer: the recogniser's voice
// activity detector takes the weak telephone-band fricatives of digits ("six", "seven",
// "five", "zero") and the onset of "nine" for silence and drops them before the search; on
// the voice bench keeping them heard 26.5% of ID numbers exactly rather than 20.0%. The
// organisations' grammar keeps the detector's cut: without it, more answers outside the
// grammar were heard as the police (66 of 260 rather than 61).
var EveryFrame = map[string]bool{IDGrammar: true}

// Grammars are the JSGF texts the recogniser hears answers against, by name (WhoGrammar,
// IDGrammar), each with the catalogue's organisations.
func (c *Catalogue) Grammars() map[string]string {
	var b strings.Builder
	b.WriteString(answerJSGF)
	b.WriteString("\n<organisation> = ")
	for i, o := range c.Organisations {
		for j, s := range o.Says {
			if i+j > 0 {
				b.WriteString("\n               | ")
			}
			b.WriteString(s)
		}
	}
	b.WriteString(";\n")
	text := b.String()
	// One grammar text for both: the decoder starts at the named public rule.
	return map[string]string{
		WhoGrammar: markPublic(strings.Replace(text, "grammar answer;", "grammar "+WhoGrammar+";", 1), WhoGrammar),
		IDGrammar:  markPublic(strings.Replace(text, "grammar answer;", "grammar "+IDGrammar+";", 1), IDGrammar),
	}
}

// markPublic leaves only rule public: pocketsphinx starts a grammar at a public rule, any.
func markPublic(text, rule string) string {
	return strings.Replace(strings.Replace(text, "public <", "<", -1), "\n<"+rule+"> =", "\npublic <"+rule+"> =", 1)
}

var (
	comment   = regexp.MustCompile(`(?m)//.*$`)
	ruleNames = regexp.MustCompile(`<[^>]*>[+*]?|/[0-9.]+/|#JSGF[^;]*;|grammar [^;]*;|\bpublic\b`)
)

// Words lists every word the grammars use, sorted, for the recogniser's dictionary.
func (c *Catalogue) Words() []string {
	seen := map[string]bool{}
	for _, g := range c.Grammars() {
		g = ruleNames.ReplaceAllString(comment.ReplaceAllString(g, ""), " ")
		for _, w := range strings.FieldsFunc(g, func(r rune) bool { return strings.ContainsRune(" \t\n=|()[];+*", r) }) {
			seen[w] = true
		}
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}
