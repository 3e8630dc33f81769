package sphinx

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// GrammarOptions configure the recogniser that hears answers against grammars.
type GrammarOptions struct {
	// ModelDir holds Debian's en-us model: en-us/ (acoustic) and cmudict-en-us.dict.
	ModelDir string
	// Decoders is how many answers can be heard at once.
	Decoders int
	// Grammars are JSGF texts by name.
	Grammars map[string]string
	// WordPenalty is, by grammar, the probability of a word beginning (pocketsphinx's -wip,
	// 0.65 unless given): lower keeps a grammar of short words, digits, from hearing more
	// of them than were said.
	WordPenalty map[string]float64
	// EveryFrame names the grammars whose answers are decoded with every frame, none
	// dropped by the voice activity detector as silence: on a telephone line it takes the
	// weak fricatives of digits ("six", "seven", "five", "zero") for silence. Other grammars
	// are decoded as pocketsphinx does by default.
	EveryFrame map[string]bool
	// Words are every word the grammars use; Pronounce gives the phones of those the
	// pronouncing dictionary lacks.
	Words     []string
	Pronounce map[string][]string
	// Args are further pocketsphinx arguments (for tuning).
	Args []string
}

// dictionary is the pronouncing dictionary of the grammars' words: every pronunciation
// Debian's dictionary has for each, then the extra ones.
func (o GrammarOptions) dictionary() ([]byte, error) {
	want := make(map[string]bool, len(o.Words))
	for _, w := range o.Words {
		want[w] = true
	}
	f, err := os.Open(filepath.Join(o.ModelDir, "cmudict-en-us.dict"))
	if err != nil {
		return nil, fmt.Errorf("pocketsphinx dictionary: %w", err)
	}
	defer f.Close()
	var out bytes.Buffer
	have := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		entry, _, _ := strings.Cut(line, " ")
		word, _, _ := strings.Cut(entry, "(")
		if want[word] {
			out.WriteString(line)
			out.WriteByte('\n')
			have[word] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pocketsphinx dictionary: %w", err)
	}
	var missing []string
	for _, w := range o.Words {
		for i, phones := range o.Pronounce[w] {
			if have[w] || i > 0 {
				fmt.Fprintf(&out, "%s(%d) %s\n", w, 10+i, phones)
			} else {
				fmt.Fprintf(&out, "%s %s\n", w, phones)
			}
		}
		if !have[w] && len(o.Pronounce[w]) == 0 {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("pocketsphinx dictionary has no pronunciation for %s", strings.Join(missing, ", "))
	}
	return out.Bytes(), nil
}
