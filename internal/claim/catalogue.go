package claim

import (
	"bufio"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"
)

//go:embed organisations.txt
var organisationsTxt string

//go:embed british.txt
var britishTxt string

// Organisation is one entry of the catalogue.
type Organisation struct {
	Kind Kind
	Name string
	// Says are the ways callers say it, in the grammar's notation: (a | b), [optional].
	Says []string
}

// Catalogue is the organisations callers claim and the words the grammars need.
type Catalogue struct {
	Organisations []Organisation
	// Pronounce gives the phones (CMU notation) of words as a standard American dictionary
	// lacks them: words it does not have, and British ways of saying those it has.
	Pronounce map[string][]string
	// phrases maps every way of saying an organisation, expanded, to its index.
	phrases map[string]int
	longest int // words in the longest phrase
}

var builtin = sync.OnceValues(func() (*Catalogue, error) {
	return ParseCatalogue(organisationsTxt + "\n" + britishTxt)
})

// Builtin is the catalogue shipped in the binary.
func Builtin() *Catalogue {
	c, err := builtin()
	if err != nil {
		panic("claim: the built-in catalogue does not parse: " + err.Error()) // a test checks it
	}
	return c
}

// Base is the built-in catalogue without its British pronunciations, which britishgen
// writes from it.
func Base() (*Catalogue, error) { return ParseCatalogue(organisationsTxt) }

// ParseCatalogue reads a catalogue in the notation of organisations.txt.
func ParseCatalogue(text string) (*Catalogue, error) {
	c := &Catalogue{Pronounce: map[string][]string{}, phrases: map[string]int{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	pronouncing := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case line == "pronounce:":
			pronouncing = true
			continue
		case pronouncing:
			w, phones, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(w) == "" || strings.TrimSpace(phones) == "" {
				return nil, fmt.Errorf("claim catalogue line %d: want word = PHONES", n)
			}
			w = strings.TrimSpace(w)
			c.Pronounce[w] = append(c.Pronounce[w], strings.Join(strings.Fields(phones), " "))
			continue
		}
		head, says, ok := strings.Cut(line, "=")
		kindName, name, ok2 := strings.Cut(head, ":")
		if !ok || !ok2 {
			return nil, fmt.Errorf("claim catalogue line %d: want kind: Organisation = how it is said; ...", n)
		}
		var k Kind
		if err := k.UnmarshalText([]byte(strings.TrimSpace(kindName))); err != nil || k == Unknown {
			return nil, fmt.Errorf("claim catalogue line %d: %q is not police, bank, government, company or family", n, strings.TrimSpace(kindName))
		}
		o := Organisation{Kind: k, Name: strings.TrimSpace(name)}
		for _, s := range strings.Split(says, ";") {
			s = strings.Join(strings.Fields(s), " ")
			if s == "" {
				continue
			}
			expanded, err := expand(s)
			if err != nil {
				return nil, fmt.Errorf("claim catalogue line %d: %q: %w", n, s, err)
			}
			for _, p := range expanded {
				if p == "" {
					return nil, fmt.Errorf("claim catalogue line %d: %q can be said as nothing", n, s)
				}
				if prev, dup := c.phrases[p]; dup && prev != len(c.Organisations) {
					return nil, fmt.Errorf("claim catalogue line %d: %q is also %s", n, p, c.Organisations[prev].Name)
				}
				c.phrases[p] = len(c.Organisations)
				c.longest = max(c.longest, len(strings.Fields(p)))
			}
			o.Says = append(o.Says, s)
		}
		if o.Name == "" || len(o.Says) == 0 {
			return nil, fmt.Errorf("claim catalogue line %d: an organisation needs a name and a way of saying it", n)
		}
		c.Organisations = append(c.Organisations, o)
	}
	return c, sc.Err()
}

// Find returns the organisation a caller named in words, the longest phrase of the
// catalogue found in them; ok is false when there is none.
func (c *Catalogue) Find(words string) (Organisation, bool) {
	w := strings.Fields(words)
	for n := min(c.longest, len(w)); n > 0; n-- {
		for i := 0; i+n <= len(w); i++ {
			if at, ok := c.phrases[strings.Join(w[i:i+n], " ")]; ok {
				return c.Organisations[at], true
			}
		}
	}
	return Organisation{}, false
}

// Names lists the organisations of kind k (every kind when k is Unknown), sorted.
func (c *Catalogue) Names(k Kind) []string {
	var out []string
	for _, o := range c.Organisations {
		if k == Unknown || o.Kind == k {
			out = append(out, o.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Canonical is the catalogue's name for an organisation written by a person ("the met",
// "Hampshire Constabulary"), or "" when the catalogue does not know it.
func (c *Catalogue) Canonical(text string) string {
	norm := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '\'':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return ' '
	}, text)
	if o, ok := c.Find(norm); ok {
		return o.Name
	}
	for _, o := range c.Organisations {
		if strings.EqualFold(o.Name, strings.TrimSpace(text)) {
			return o.Name
		}
	}
	return ""
}

// expand writes out every word sequence a phrase in the grammar's notation stands for.
func expand(s string) ([]string, error) {
	toks := tokens(s)
	out, rest, err := alternatives(toks)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("unexpected %q", rest[0])
	}
	for i := range out {
		out[i] = strings.Join(strings.Fields(out[i]), " ")
	}
	return out, nil
}

func tokens(s string) []string {
	for _, p := range []string{"(", ")", "[", "]", "|"} {
		s = strings.ReplaceAll(s, p, " "+p+" ")
	}
	return strings.Fields(s)
}

// alternatives reads a | b | c up to a closing bracket or the end.
func alternatives(toks []string) ([]string, []string, error) {
	var out []string
	for {
		seq, rest, err := sequence(toks)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, seq...)
		if len(rest) == 0 || rest[0] != "|" {
			return out, rest, nil
		}
		toks = rest[1:]
	}
}

// sequence reads words and groups up to | or a closing bracket.
func sequence(toks []string) ([]string, []string, error) {
	out := []string{""}
	for len(toks) > 0 {
		t := toks[0]
		var part []string
		switch t {
		case "|", ")", "]":
			return out, toks, nil
		case "(", "[":
			inner, rest, err := alternatives(toks[1:])
			if err != nil {
				return nil, nil, err
			}
			closer := map[string]string{"(": ")", "[": "]"}[t]
			if len(rest) == 0 || rest[0] != closer {
				return nil, nil, fmt.Errorf("%s without %s", t, closer)
			}
			toks = rest[1:]
			part = inner
			if t == "[" {
				part = append(part, "")
			}
		default:
			toks = toks[1:]
			part = []string{t}
		}
		var next []string
		for _, a := range out {
			for _, b := range part {
				next = append(next, a+" "+b)
			}
		}
		out = next
	}
	return out, toks, nil
}

// Expand writes out every word sequence a way of saying an organisation stands for.
func Expand(says string) []string {
	out, err := expand(says)
	if err != nil {
		return nil
	}
	return out
}
