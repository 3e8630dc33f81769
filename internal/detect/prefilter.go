package detect

import (
	"regexp/syntax"
	"strings"
)

// A regular expression over a whole segment costs microseconds; most rules cannot match most
// segments. Each rule therefore carries the literal strings one of which any match must
// contain, taken from its pattern, and the rule's expression runs only when the text
// contains one of them.

// maxLiterals bounds the set a prefilter may check.
const maxLiterals = 96

// requiredLiterals returns strings one of which every match of pattern contains, or nil if
// no usable set was found (the rule then always runs).
func requiredLiterals(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	candidates := [][]string{}
	if set, ok := literals(re); ok {
		candidates = append(candidates, set)
	}
	if re.Op == syntax.OpConcat {
		for _, sub := range re.Sub {
			if set, ok := literals(sub); ok {
				candidates = append(candidates, set)
			}
		}
	}
	var best []string
	bestScore := 0
	for _, set := range candidates {
		shortest := 1 << 30
		for _, s := range set {
			shortest = min(shortest, len(strings.TrimSpace(s)))
		}
		if shortest < 3 {
			continue // too short to be selective ("a ", "to")
		}
		// Prefer long literals, then few of them.
		score := shortest*100 - len(set)
		if best == nil || score > bestScore {
			best, bestScore = set, score
		}
	}
	return best
}

// literals lists every string node can match, if that list is short and finite.
func literals(node *syntax.Regexp) ([]string, bool) {
	switch node.Op {
	case syntax.OpLiteral:
		if node.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(node.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(node.Rune); i += 2 {
			for r := node.Rune[i]; r <= node.Rune[i+1]; r++ {
				out = append(out, string(r))
				if len(out) > 8 {
					return nil, false
				}
			}
		}
		return out, true
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpCapture:
		return literals(node.Sub[0])
	case syntax.OpQuest:
		set, ok := literals(node.Sub[0])
		if !ok {
			return nil, false
		}
		return append([]string{""}, set...), true
	case syntax.OpAlternate:
		var out []string
		for _, sub := range node.Sub {
			set, ok := literals(sub)
			if !ok {
				return nil, false
			}
			out = append(out, set...)
			if len(out) > maxLiterals {
				return nil, false
			}
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range node.Sub {
			set, ok := literals(sub)
			if !ok {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(set))
			for _, a := range out {
				for _, b := range set {
					next = append(next, a+b)
				}
			}
			if len(next) > maxLiterals {
				return nil, false
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// mayMatch says whether text contains one of the rule's required literals.
func (r *rule) mayMatch(text string) bool {
	if r.need == nil {
		return true
	}
	for _, s := range r.need {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}
