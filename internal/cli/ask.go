package cli

import (
	"cmp"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

// askDecoders is how many callers' answers are heard at once; a caller asked while every
// one is busy is heard as recorded only (the resident hears their words, not who they are).
const askDecoders = 2

// askIdle is how long the grammars stay loaded after the last answer.
const askIdle = 10 * time.Minute

// askGrammar is the recogniser asked callers' answers are heard with: pocketsphinx with the
// claim grammars. When this build or machine has no pocketsphinx, it is nil and the guard
// asks no one, which it logs. The grammars are loaded when a caller is to be asked (in a
// quarter of a second, while the question plays) and freed after askIdle without one, so a
// box idles without them (about 15 MB a decoder) and loading them never delays a call.
func askGrammar(cfg *config.Config, log *slog.Logger) *speech.OnDemand {
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
	log.Info("callers may be asked who they are", "screening.ask", cfg.Screening.Ask, "grammars", "loaded when a caller is asked")
	return speech.NewOnDemand(func() (speech.Grammar, error) {
		c := claim.Builtin()
		g, err := sphinx.NewGrammar(sphinx.GrammarOptions{ModelDir: cfg.Listening.ModelDir, Decoders: askDecoders,
			Grammars: c.Grammars(), WordPenalty: claim.WordPenalties, EveryFrame: claim.EveryFrame, Words: c.Words(), Pronounce: c.Pronounce})
		if err != nil {
			log.Warn("callers will not be asked who they are: "+err.Error(), "screening.ask", cfg.Screening.Ask)
			return nil, err
		}
		log.Debug("grammars for asking callers loaded", "organisations", len(c.Organisations))
		return g, nil
	}, askIdle)
}
