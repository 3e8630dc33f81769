package voices

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/clearline/clearline/internal/speech/wav"
)

// TestData is where Debian's pocketsphinx-testdata puts its recordings.
const TestData = "/usr/share/pocketsphinx/test/data"

// Recording is a real person's voice with the words said.
type Recording struct {
	Set   string // which recordings: "cards", "librivox", "goforward", "tidigits"
	Name  string
	Audio *wav.Audio
	Said  string
}

// Real reads the recorded voices of Debian's pocketsphinx-testdata with their words: the
// "cards" set (one speaker reading playing cards, 16 kHz), five sentences of a LibriVox
// reading of Sense and Sensibility (16 kHz), "go forward ten meters" (16 kHz), and one
// TIDIGITS speaker's "two nine three four zero" (8 kHz; the words are the file's name in
// TIDIGITS' convention). Twelve clips, at least four speakers, 41 s.
func Real(dir string) ([]Recording, error) {
	var out []Recording
	for _, set := range []string{"cards", "librivox"} {
		recs, err := transcribed(dir, set)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	for _, r := range []struct {
		set, file, said string
		rate            int
	}{
		{"goforward", "goforward.raw", "go forward ten meters", 16000},
		{"tidigits", "tidigits/dhd.2934z.raw", "two nine three four zero", 8000},
	} {
		a, err := raw(filepath.Join(dir, r.file), r.rate)
		if err != nil {
			return nil, err
		}
		out = append(out, Recording{Set: r.set, Name: strings.TrimSuffix(filepath.Base(r.file), ".raw"), Audio: a, Said: r.said})
	}
	return out, nil
}

var transcriptLine = regexp.MustCompile(`^<s>(.*)</s>\s*\((\S+)\)$`)

// transcribed reads DIR/SET/transcription ("<s> words </s> (id)") and each id's .wav.
func transcribed(dir, set string) ([]Recording, error) {
	name := filepath.Join(dir, set, "transcription")
	if set == "cards" {
		name = filepath.Join(dir, set, "cards.transcription")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w (Debian's pocketsphinx-testdata; `make test-deps` installs it)", err)
	}
	defer f.Close()
	var out []Recording
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := transcriptLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		wf, err := os.Open(filepath.Join(dir, set, m[2]+".wav"))
		if err != nil {
			return nil, err
		}
		a, err := wav.Read(wf)
		wf.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", wf.Name(), err)
		}
		out = append(out, Recording{Set: set, Name: m[2], Audio: a, Said: strings.Join(strings.Fields(m[1]), " ")})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no transcribed recordings", name)
	}
	return out, sc.Err()
}

// raw reads headerless 16-bit little-endian mono samples.
func raw(path string, rate int) (*wav.Audio, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (Debian's pocketsphinx-testdata; `make test-deps` installs it)", err)
	}
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
	}
	return &wav.Audio{Encoding: wav.PCM16, Rate: rate, PCM: pcm}, nil
}
