package cli

import (
	"cmp"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

// askDecoders is how many callers' answers are heard at once; a caller asked while every
// one is busy is heard as recorded only (the resident hears their words, not who they are).
const askDecoders = 2

// askGrammar is the recogniser asked callers' answers are heard with: pocketsphinx with the
// claim grammars. When this build or machine has no pocketsphinx, it is nil and the guard
// asks no one, which it logs. The grammars are loaded in the background once the guard
// answers calls (warm), so loading them never delays a call, 999 least of all; a caller
// asked before they are loaded waits for them. When the configuration asks no one, they are
// loaded only if a guardian turns asking on from the dashboard and a caller is asked.
func askGrammar(cfg *config.Config, log *slog.Logger) *lazyGrammar {
	dir := cmp.Or(cfg.Listening.ModelDir, sphinx.DefaultModelDir)
	if _, err := os.Stat(filepath.Join(dir, "en-us", "mdef")); !sphinx.Built || err != nil {
		why := "this build has no pocketsphinx (built without cgo)"
		if sphinx.Built {
			why = "the pocketsphinx model is not in " + dir
		}
		log.Warn("callers will not be asked who they are: "+why, "screening.ask", cfg.Screening.Ask,
			"fix", "install Debian's libpocketsphinx-dev and pocketsphinx-en-us and build with cgo")
		return nil
	}
	return &lazyGrammar{load: func() (speech.Grammar, error) {
		c := claim.Builtin()
		g, err := sphinx.NewGrammar(sphinx.GrammarOptions{ModelDir: cfg.Listening.ModelDir, Decoders: askDecoders,
			Grammars: c.Grammars(), WordPenalty: claim.WordPenalties, Words: c.Words(), Pronounce: c.Pronounce})
		if err != nil {
			log.Warn("callers will not be asked who they are: "+err.Error(), "screening.ask", cfg.Screening.Ask)
			return nil, err
		}
		log.Info("asking callers who they are", "organisations", len(c.Organisations))
		return g, nil
	}}
}

// lazyGrammar loads its grammars when the first answer is heard.
type lazyGrammar struct {
	load func() (speech.Grammar, error)
	once sync.Once
	g    speech.Grammar
	err  error
}

// warm loads the grammars in the background.
func (l *lazyGrammar) warm() { go l.once.Do(func() { l.g, l.err = l.load() }) }

func (l *lazyGrammar) Hear(grammar string) (speech.Answer, error) {
	l.once.Do(func() { l.g, l.err = l.load() })
	if l.err != nil {
		return nil, l.err
	}
	return l.g.Hear(grammar)
}

func (l *lazyGrammar) Close() error {
	l.once.Do(func() {}) // no load after Close
	if l.g != nil {
		return l.g.Close()
	}
	return nil
}
