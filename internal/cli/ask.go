package cli

import (
	"log/slog"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

// askDecoders is how many callers' answers are heard at once; a caller asked while every
// one is busy is heard as recorded only (the resident hears their words, not who they are).
const askDecoders = 2

// askGrammar is the recogniser asked callers' answers are heard with: pocketsphinx with the
// claim grammars. When the household asks no one, or this build or machine has no
// pocketsphinx, it is nil and the guard asks no one, which it says.
func askGrammar(cfg *config.Config, log *slog.Logger) speech.Grammar {
	if cfg.Screening.Ask == "never" {
		return nil
	}
	c := claim.Builtin()
	g, err := sphinx.NewGrammar(sphinx.GrammarOptions{ModelDir: cfg.Listening.ModelDir, Decoders: askDecoders,
		Grammars: c.Grammars(), WordPenalty: claim.WordPenalties, Words: c.Words(), Pronounce: c.Pronounce})
	if err != nil {
		log.Warn("callers will not be asked who they are: "+err.Error(), "screening.ask", cfg.Screening.Ask,
			"fix", "install Debian's libpocketsphinx-dev and pocketsphinx-en-us and build with cgo")
		return nil
	}
	log.Info("asking callers who they are", "screening.ask", cfg.Screening.Ask, "organisations", len(c.Organisations))
	return g
}
