package speech

import "time"

// Grammar hears short answers against named grammars (JSGF): which of a few hundred
// organisations a caller named, or the digits of an ID number. Implementations are safe
// for concurrent use.
type Grammar interface {
	// Hear starts hearing one answer against the named grammar. It returns ErrBusy when
	// every decoder is in use.
	Hear(grammar string) (Answer, error)
	Close() error
}

// Answer is one answer being heard. It is used by one goroutine at a time.
type Answer interface {
	// Write adds samples at Rate and says whether the recogniser hears speech in them.
	Write(samples []int16) (speaking bool, err error)
	// End finishes the answer and returns what the grammar heard in it. The answer is
	// done with after End.
	End() (Heard, error)
}

// Heard is what a grammar made of an answer.
type Heard struct {
	// Words are the grammar's words for the answer ("" when it fitted none).
	Words string
	// Spoken is how long the words last; Unexplained is how much speech between the first
	// and the last word the grammar could only call silence or noise. Speech outside the
	// grammar shows as a long Unexplained stretch: the grammar forced a few of its words
	// onto it.
	Spoken, Unexplained time.Duration
}
