package claim

import (
	"time"

	"github.com/clearline/clearline/internal/speech"
)

// MaxUnexplained is how much speech inside an answer the grammar may leave unexplained (a
// name it does not know, a cough) before the answer counts as outside it: a caller who says
// "it's about your car insurance" is heard as a few of the grammar's words with long
// stretches between them that only silence fits.
const MaxUnexplained = 600 * time.Millisecond

// Read is the claim in what the grammar heard for "who are you".
func (c *Catalogue) Read(h speech.Heard) Claim {
	cl := Claim{Words: h.Words}
	if h.Unexplained > MaxUnexplained {
		return cl
	}
	if o, ok := c.Find(h.Words); ok {
		cl.Kind, cl.Organisation = o.Kind, o.Name
	}
	return cl
}
