package dash

import (
	"strings"

	"github.com/clearline/clearline/internal/screen"
)

// WithBlocked is s with number added to the block-list under name, and whether that
// changed anything: a number already listed, however written, is not listed twice. A
// number that is not one (a withheld caller's "anonymous") is an error. The dashboard's
// Block button and the handset's block code both come here.
func (s Settings) WithBlocked(number, name string) (Settings, bool, error) {
	number = strings.TrimSpace(number)
	if _, err := screen.Canonical(number); err != nil {
		return s, false, err
	}
	for _, b := range s.Block {
		if screen.Same(b.Number, number) {
			return s, false, nil
		}
	}
	s.Block = append(append([]Contact{}, s.Block...), Contact{Number: number, Name: strings.TrimSpace(name)})
	return s, true, nil
}
