package detect

import (
	"fmt"
	"strconv"
	"strings"
)

// Rules are written as phrase patterns over words, the unit a speech recogniser writes, and
// matched against a segment's words rather than its characters. A pattern is a sequence of
// elements separated by spaces:
//
//	word            that word
//	a|b|c           one of these words
//	{x y|z}         one of these phrases; inside, a/b is one of two words at that place
//	[x y|z]         an optional phrase
//	~4              up to four words of anything
//	_               any one word
//	#  #3           a number; a number of at least three digits
//	*shire  pre*    a word ending in "shire"; a word starting with "pre"
//
// Every word a pattern names is in one vocabulary; each segment's words are looked up in it
// once, so matching compares small integers. A pattern whose first element is a word (or a
// choice of words) is tried only where the text has one of them.

// matcher matches one word of the text.
type matcher struct {
	kind matcherKind
	ids  []int32  // mWords: the vocabulary ids of the words
	set  []uint64 // the same as a bit set, for a matcher of many words
	s    string   // mSuffix, mPrefix
	min  int      // mNumber: fewest digits
	// minor: the word is a small one (the, to, of…) a phrase still matches without.
	minor bool
}

// minorWords are the words a recogniser most often drops or mishears, and that carry little
// of a phrase's meaning.
var minorWords = map[string]bool{"the": true, "a": true, "an": true, "to": true, "of": true, "on": true, "for": true,
	"in": true, "your": true, "my": true, "our": true, "is": true, "be": true, "and": true, "it": true,
	"this": true, "that": true, "at": true, "with": true, "from": true, "has": true, "have": true, "been": true, "will": true, "are": true}

type matcherKind uint8

const (
	mWords matcherKind = iota
	mNumber
	mSuffix
	mPrefix
	mAny
)

// element is one part of a pattern: a choice of phrases, or a gap.
type element struct {
	alts     [][]matcher // the phrases, each a sequence of word matchers; nil for a gap
	gap      int         // a gap: up to this many words
	optional bool
}

// pattern is a compiled phrase pattern.
type pattern struct {
	src   string
	elems []element
}

// token is one word of a segment, looked up in the vocabulary.
type token struct {
	w      string
	id     int32 // the word's vocabulary id, or -1
	alike  int32 // the key word this word sounds like (see soundalike.go), or -1
	near   int32 // the rule words this word is one phone from: an index in nearLists, or -1
	digits int   // len(w) when w is all digits, else 0
}

// vocab numbers every word the patterns name.
type vocab struct {
	ids   map[string]int32
	words []string
}

func (v *vocab) id(w string) int32 {
	if id, ok := v.ids[w]; ok {
		return id
	}
	id := int32(len(v.words))
	v.ids[w] = id
	v.words = append(v.words, w)
	return id
}

// compile parses a pattern, adding its words to v.
func compile(src string, v *vocab) (*pattern, error) {
	p := &pattern{src: src}
	rest := strings.TrimSpace(src)
	for rest != "" {
		var part string
		switch rest[0] {
		case '{', '[':
			close := map[byte]byte{'{': '}', '[': ']'}[rest[0]]
			end := strings.IndexByte(rest, close)
			if end < 0 {
				return nil, fmt.Errorf("pattern %q: %q is not closed", src, rest[0])
			}
			part, rest = rest[:end+1], strings.TrimSpace(rest[end+1:])
			e := element{optional: part[0] == '['}
			for _, phrase := range strings.Split(part[1:len(part)-1], "|") {
				seq, err := compileSeq(phrase, "/", v)
				if err != nil {
					return nil, fmt.Errorf("pattern %q: %w", src, err)
				}
				e.alts = append(e.alts, seq)
			}
			p.elems = append(p.elems, e)
			continue
		}
		if i := strings.IndexByte(rest, ' '); i >= 0 {
			part, rest = rest[:i], strings.TrimSpace(rest[i+1:])
		} else {
			part, rest = rest, ""
		}
		if n, ok := strings.CutPrefix(part, "~"); ok {
			g, err := strconv.Atoi(n)
			if err != nil || g < 1 {
				return nil, fmt.Errorf("pattern %q: bad gap %q", src, part)
			}
			p.elems = append(p.elems, element{gap: g})
			continue
		}
		seq, err := compileSeq(part, "|", v)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", src, err)
		}
		p.elems = append(p.elems, element{alts: [][]matcher{seq}})
	}
	if len(p.elems) == 0 {
		return nil, fmt.Errorf("pattern %q is empty", src)
	}
	if p.elems[0].alts == nil || p.elems[len(p.elems)-1].alts == nil {
		return nil, fmt.Errorf("pattern %q starts or ends with a gap", src)
	}
	return p, nil
}

// compileSeq reads the words of one phrase; choice separates one-word choices.
func compileSeq(phrase, choice string, v *vocab) ([]matcher, error) {
	var seq []matcher
	for _, w := range strings.Fields(phrase) {
		m, err := compileWord(w, choice, v)
		if err != nil {
			return nil, err
		}
		seq = append(seq, m)
	}
	if len(seq) == 0 {
		return nil, fmt.Errorf("empty phrase")
	}
	return seq, nil
}

func compileWord(w, choice string, v *vocab) (matcher, error) {
	switch {
	case w == "_":
		return matcher{kind: mAny}, nil
	case w == "#":
		return matcher{kind: mNumber, min: 1}, nil
	case strings.HasPrefix(w, "#"):
		n, err := strconv.Atoi(w[1:])
		if err != nil || n < 1 {
			return matcher{}, fmt.Errorf("bad number %q", w)
		}
		return matcher{kind: mNumber, min: n}, nil
	case len(w) > 1 && strings.HasPrefix(w, "*"):
		return matcher{kind: mSuffix, s: w[1:]}, nil
	case len(w) > 1 && strings.HasSuffix(w, "*"):
		return matcher{kind: mPrefix, s: w[:len(w)-1]}, nil
	}
	m := matcher{kind: mWords, minor: true}
	for _, c := range strings.Split(w, choice) {
		m.minor = m.minor && minorWords[c]
		if c == "" || strings.ContainsAny(c, "{}[]~#*_/|") {
			return matcher{}, fmt.Errorf("bad word %q", w)
		}
		m.ids = append(m.ids, v.id(c))
	}
	return m, nil
}

// has says whether the matcher names the word with vocabulary id id (-1: none).
func (m *matcher) has(id int32) bool {
	if id < 0 {
		return false
	}
	if m.set != nil {
		return int(id>>6) < len(m.set) && m.set[id>>6]&(1<<(id&63)) != 0
	}
	for _, x := range m.ids {
		if x == id {
			return true
		}
	}
	return false
}

// index gives a matcher of many words a set of their ids to look them up in.
func (m *matcher) index() {
	if m.kind != mWords || len(m.ids) <= 4 {
		return
	}
	top := int32(0)
	for _, id := range m.ids {
		top = max(top, id)
	}
	m.set = make([]uint64, top/64+1)
	for _, id := range m.ids {
		m.set[id>>6] |= 1 << (id & 63)
	}
}

// index readies every matcher of the pattern.
func (p *pattern) index() {
	for i := range p.elems {
		for _, seq := range p.elems[i].alts {
			for k := range seq {
				seq[k].index()
			}
		}
	}
}

// hit is how a matcher took a word: not at all, as heard (the word, or one the sound-alike
// table reads as it), or as a near word.
type hit uint8

const (
	miss hit = iota
	heard
	nearly
)

func (m *matcher) match(t *token) hit {
	switch m.kind {
	case mWords:
		if m.has(t.id) || m.has(t.alike) {
			return heard
		}
		if t.near >= 0 && !m.minor {
			for _, n := range nearLists[t.near] {
				if m.has(n) {
					return nearly
				}
			}
		}
		return miss
	case mNumber:
		if t.digits >= m.min {
			return heard
		}
		return miss
	case mSuffix:
		if len(t.w) > len(m.s) && strings.HasSuffix(t.w, m.s) {
			return heard
		}
		return miss
	case mPrefix:
		if len(t.w) > len(m.s) && strings.HasPrefix(t.w, m.s) {
			return heard
		}
		return miss
	}
	return heard
}

// tally follows one match: how many words that carry meaning it took as heard, and its
// lapse. A recogniser gets about every third word wrong on a telephone line, so a match may
// have one lapse:
//   - a key word read from a near word, one phone from it, however common ("dress 1" for
//     "press 1", "this haul is from"; see soundalike.go);
//   - a word of meaning inside a phrase of three words or more misheard or missing ("thank
//     yer for calling"), or the phrase's first word ("… you for calling");
//   - a number between two words missing or misheard ("press to speak");
//   - a word that is not in the phrase inside it ("thank you so for calling").
//
// A lapse counts only with enough other words of meaning heard in the same match: a lapse
// beside small words only is no sign. (Small words, the, to, of…, may be missing or
// misheard inside a phrase as before, at no cost.)
type tally struct {
	heard   int8 // words of meaning heard: a rule word of four letters or more, or a number
	lapse   bool
	need    int8 // the words of meaning the lapse needs heard
	started bool // a word has been taken
	last    bool // the last word taken was the lapse
}

// What a lapse needs heard: a near word, one word of meaning besides, two when it begins or
// ends the match (its edges are what a match stands on); a word missing or misheard, two.
const (
	needNear      = 1
	needNearFirst = 2
	needMissing   = 2
)

// lapseAt takes the match's lapse, needing need words of meaning; false if it has one.
func (tl *tally) lapseAt(need int8) bool {
	if tl.lapse {
		return false
	}
	tl.lapse, tl.need = true, need
	return true
}

// take counts a matcher's hit on word t; false when the match cannot take it.
func (tl *tally) take(m *matcher, t *token, h hit) bool {
	first := !tl.started
	tl.started = true
	switch h {
	case miss:
		return false
	case nearly:
		need := int8(needNear)
		if first {
			need = needNearFirst
		}
		tl.last = true
		return tl.lapseAt(need)
	default:
		tl.last = false
		if m.kind == mNumber || m.kind == mWords && !m.minor && len(t.w) >= 4 {
			tl.heard++
		}
	}
	return true
}

func (tl *tally) ok() bool {
	need := tl.need
	if tl.last {
		need = max(need, needNearFirst)
	}
	return !tl.lapse || tl.heard >= need
}

// matchAt matches the pattern at toks[j] and returns where the match ends.
func (p *pattern) matchAt(toks []token, j int) (int, bool) {
	var tl tally
	return matchElems(p.elems, toks, j, &tl)
}

func matchElems(es []element, toks []token, j int, tl *tally) (int, bool) {
	if len(es) == 0 {
		return j, tl.ok()
	}
	e := &es[0]
	saved := *tl
	if e.alts == nil {
		// Shortest gap first, so evidence stays tight.
		for g := 0; g <= e.gap && j+g <= len(toks); g++ {
			if end, ok := matchElems(es[1:], toks, j+g, tl); ok {
				return end, true
			}
			*tl = saved
		}
		return 0, false
	}
	for _, seq := range e.alts {
		if k, ok := matchSeq(seq, toks, j, tl); ok {
			if end, ok := matchElems(es[1:], toks, k, tl); ok {
				return end, true
			}
		}
		*tl = saved
	}
	if e.optional {
		return matchElems(es[1:], toks, j, tl)
	}
	// A number, after a word of the match and before more, missing ("press to speak") or
	// misheard: the match's lapse.
	if fuzzy && tl.started && len(es) > 1 && oneNumber(e) {
		for _, skip := range []int{0, 1} {
			if j+skip > len(toks) || !tl.lapseAt(needMissing) {
				break
			}
			if end, ok := matchElems(es[1:], toks, j+skip, tl); ok {
				return end, true
			}
			*tl = saved
		}
	}
	return 0, false
}

// oneNumber says whether e is one word, a number or a number's name (a digit the caller
// said, which recognisers drop more often than any other word).
func oneNumber(e *element) bool {
	num := false
	for _, seq := range e.alts {
		if len(seq) != 1 {
			return false
		}
		num = num || seq[0].kind == mNumber
	}
	return num
}

func matchSeq(seq []matcher, toks []token, j int, tl *tally) (int, bool) {
	if len(seq) == 1 || !fuzzy {
		return matchExact(seq, toks, j, tl)
	}
	// Every way of matching takes the first word as it is.
	if j >= len(toks) || seq[0].match(&toks[j]) == miss {
		return 0, false
	}
	if end, ok := matchExact(seq, toks, j, tl); ok {
		return end, ok
	}
	if end, ok := matchExtra(seq, toks, j, tl); ok || len(seq) < 3 {
		return end, ok
	}
	// Its first word (taken above), and its last where a word is missing or misheard, must
	// be right.
	n := len(seq)
	if j+n-1 > len(toks) {
		return 0, false
	}
	if last := &seq[n-1]; last.match(&toks[j+n-2]) == miss && (j+n > len(toks) || last.match(&toks[j+n-1]) == miss) {
		return 0, false
	}
	// A phrase of three words or more still matches with one small word inside it
	// misheard or missing ("stay on a line", "stay on line"), or, as its lapse, one word of
	// meaning inside it ("thank yer for calling"). Its first and last words must be right.
	for _, minor := range []bool{true, false} {
		for _, misheard := range []bool{true, false} {
			for i := 1; i < len(seq)-1; i++ {
				if seq[i].minor != minor {
					continue
				}
				saved := *tl
				if !minor && !tl.lapseAt(needMissing) {
					continue
				}
				if end, ok := matchExcept(seq, toks, j, i, misheard, tl); ok {
					return end, true
				}
				*tl = saved
			}
		}
	}
	return 0, false
}

var fuzzy = true

// matchExtra matches seq with one word of the text inside it that is not in it (a word
// split in two, a hesitation: "press uh 1"): the match's lapse.
func matchExtra(seq []matcher, toks []token, j int, tl *tally) (int, bool) {
	n := len(seq)
	if j+n+1 > len(toks) || seq[0].match(&toks[j]) == miss || seq[n-1].match(&toks[j+n]) == miss {
		return 0, false
	}
	saved := *tl
	if !tl.lapseAt(needMissing) {
		return 0, false
	}
	for i := 1; i < n; i++ {
		if _, ok := matchExact(seq[:i], toks, j, tl); ok {
			if end, ok := matchExact(seq[i:], toks, j+i+1, tl); ok {
				return end, true
			}
		}
		*tl = saved
		tl.lapseAt(needMissing)
	}
	*tl = saved
	return 0, false
}

func matchExact(seq []matcher, toks []token, j int, tl *tally) (int, bool) {
	if j+len(seq) > len(toks) {
		return 0, false
	}
	saved := *tl
	for i := range seq {
		if !tl.take(&seq[i], &toks[j+i], seq[i].match(&toks[j+i])) {
			*tl = saved
			return 0, false
		}
	}
	return j + len(seq), true
}

// matchExcept matches seq with its word skip taken by any word of the text (misheard), or
// absent from it.
func matchExcept(seq []matcher, toks []token, j, skip int, misheard bool, tl *tally) (int, bool) {
	n := len(seq)
	if !misheard {
		n--
	}
	if j+n > len(toks) {
		return 0, false
	}
	saved := *tl
	k := j
	for i := range seq {
		if i == skip {
			if misheard {
				k++
			}
			continue
		}
		if !tl.take(&seq[i], &toks[k], seq[i].match(&toks[k])) {
			*tl = saved
			return 0, false
		}
		k++
	}
	return k, true
}

// start is one way a match of a pattern can begin: an alternative of its first element,
// or (alt -1) the whole pattern, for one whose first element is optional. A headless start
// begins at the alternative's second word, its first missing or misheard: the match's lapse.
type start struct {
	rule, alt int
	headless  bool
}

// starts lists the ways a match of p, rule number rule, can begin: by the vocabulary id of
// the first word for alternatives that begin with a word (and of the second, headless, for
// those of two words or more), and the rest apart, to be tried at every word of the text.
func (p *pattern) starts(rule int, byWord map[int32][]start) (anywhere []start) {
	e := p.elems[0]
	if e.optional {
		return []start{{rule, -1, false}}
	}
	for a, seq := range e.alts {
		if len(seq) >= 3 && seq[1].kind == mWords && !seq[1].minor {
			for _, id := range seq[1].ids {
				byWord[id] = append(byWord[id], start{rule, a, true})
			}
		}
		if seq[0].kind != mWords {
			anywhere = append(anywhere, start{rule, a, false})
			continue
		}
		for _, id := range seq[0].ids {
			byWord[id] = append(byWord[id], start{rule, a, false})
		}
	}
	return anywhere
}

// matchFrom matches p at toks[j] beginning as st says and returns where the match ends.
func (p *pattern) matchFrom(st start, toks []token, j int) (int, bool) {
	var tl tally
	if st.alt < 0 {
		return matchElems(p.elems, toks, j, &tl)
	}
	seq := p.elems[0].alts[st.alt]
	if st.headless {
		tl.lapseAt(needMissing)
		seq = seq[1:]
	}
	k, ok := matchSeq(seq, toks, j, &tl)
	if !ok {
		return 0, false
	}
	return matchElems(p.elems[1:], toks, k, &tl)
}
