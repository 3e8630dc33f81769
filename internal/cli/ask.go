package cli

import (
	"log/slog"
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
// asks no one, which it says. When the configuration asks no one, the grammars are loaded
// only when a guardian turns asking on from the dashboard and the first caller is asked.
func askGrammar(cfg *config.Config, log *slog.Logger) speech.Grammar {
	load := func() (speech.Grammar, error) {
		c := claim.Builtin()
		g, err := sphinx.NewGrammar(sphinx.GrammarOptions{ModelDir: cfg.Listening.ModelDir, Decoders: askDecoders,
			Grammars: c.Grammars(), WordPenalty: claim.WordPenalties, Words: c.Words(), Pronounce: c.Pronounce})
		if err != nil {
			log.Warn("callers will not be asked who they are: "+err.Error(), "screening.ask", cfg.Screening.Ask,
				"fix", "install Debian's libpocketsphinx-dev and pocketsphinx-en-us and build with cgo")
			return nil, err
		}
		log.Info("asking callers who they are", "organisations", len(c.Organisations))
		return g, nil
	}
	if cfg.Screening.Ask == "never" {
		if !sphinx.Built {
			return nil
		}
		return &lazyGrammar{load: load}
	}
	g, err := load()
	if err != nil {
		return nil
	}
	return g
}

// lazyGrammar loads its grammars when the first answer is heard.
type lazyGrammar struct {
	load func() (speech.Grammar, error)
	once sync.Once
	g    speech.Grammar
	err  error
}

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
