//go:build !cgo

package sphinx

import "github.com/clearline/clearline/internal/speech"

// New fails: this build has no cgo.
func New(Options) (speech.Recognizer, error) { return nil, ErrUnavailable }

func commonWords(string, []string, int) ([]string, error) { return nil, ErrUnavailable }
