//go:build !cgo

package sphinx

import "github.com/clearline/clearline/internal/speech"

// Built says whether this build has pocketsphinx in it: it has not.
const Built = false

// New fails: this build has no cgo.
func New(Options) (speech.Recognizer, error) { return nil, ErrUnavailable }

func commonWords(string, []string, int) ([]string, error) { return nil, ErrUnavailable }
