package claim

// What the resident hears of an asked caller, and the keys they may press.

// Part is one piece of what the resident hears: a spoken prompt, the caller's own words as
// recorded, or digits read out one by one.
type Part struct {
	Prompt string // the name of a prompt (internal/media/prompts)
	Said   bool   // the caller's recorded answers
	Digits string // digits to read out
}

// Choice is what the resident asked for.
type Choice int

const (
	// NoChoice: no key, or none that means anything here.
	NoChoice Choice = iota
	// Talk connects the caller.
	Talk
	// RingPolice releases the caller and rings the police (the household's 101) on a fresh line.
	RingPolice
	// RingBank releases the caller and rings the household's bank on a fresh line.
	RingBank
	// Refuse releases the caller.
	Refuse
)

var choiceNames = [...]string{"none", "talk", "ring_police", "ring_bank", "refuse"}

func (c Choice) String() string {
	if c >= 0 && int(c) < len(choiceNames) {
		return choiceNames[c]
	}
	return "choice(?)"
}

// Silent says the caller gave no answer the guard could hear: nothing at all, or speech that
// went on past the question's time (a recorded message does not stop to listen).
func (cl Claim) Silent() bool { return !cl.Answered }

// RingThrough says the call goes to the household as if no one had asked: a caller who
// would not answer, when the household lets unknown callers ring (screening.unknown: allow).
func (cl Claim) RingThrough(unknownScreened bool) bool { return cl.Silent() && !unknownScreened }

// Telling is what the resident hears when they answer: who the caller says they are, in the
// caller's own words, the ID number they gave, the advice for such callers, and the keys.
func (cl Claim) Telling(haveBank bool) []Part {
	if cl.Silent() {
		return []Part{{Prompt: "claim_silent"}, {Prompt: "choice_other"}}
	}
	parts := []Part{{Prompt: "claim_" + cl.Kind.String()}, {Said: true}}
	if cl.Kind.Authority() {
		if cl.IDNumber != "" {
			parts = append(parts, Part{Prompt: "claim_id"}, Part{Digits: cl.IDNumber})
		} else {
			parts = append(parts, Part{Prompt: "claim_no_id"})
		}
	}
	if cl.Kind != Unknown {
		parts = append(parts, Part{Prompt: "advice_" + cl.Kind.String()})
	}
	switch {
	case cl.Kind == Bank && haveBank:
		parts = append(parts, Part{Prompt: "choice_bank"})
	case cl.Kind.Authority():
		parts = append(parts, Part{Prompt: "choice_police"})
	default:
		parts = append(parts, Part{Prompt: "choice_other"})
	}
	return parts
}

// Choose reads the key the resident pressed: 1 talks, 3 refuses; 2 rings the police (or,
// for a caller who says they are the bank, the household's bank when it has one) where the
// resident was offered it. Any other key refuses, as announce-and-screen's do.
func (cl Claim) Choose(key byte, haveBank bool) Choice {
	switch key {
	case 0:
		return NoChoice
	case '1':
		return Talk
	case '2':
		if !cl.Silent() && cl.Kind == Bank && haveBank {
			return RingBank
		}
		if !cl.Silent() && cl.Kind.Authority() {
			return RingPolice
		}
	}
	return Refuse
}
