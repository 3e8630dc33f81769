//go:build !cgo

package sphinx

import "github.com/clearline/clearline/internal/speech"

// NewGrammar fails: this build has no cgo.
func NewGrammar(GrammarOptions) (speech.Grammar, error) { return nil, ErrUnavailable }
