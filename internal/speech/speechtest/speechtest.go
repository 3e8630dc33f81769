// Package speechtest makes real test audio: call scripts (testdata/listen) spoken by
// espeak-ng and turned into 8 kHz mu-law telephone audio by sox, both from Debian. Tests of
// the recogniser, the listener and the guard end to end share it.
package speechtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clearline/clearline/internal/speech"
)

// Script is one test call: what the caller says, sentence by sentence.
type Script struct {
	Name  string
	Label string // "scam" or "benign"
	About string
	Lines []string
}

// Text is the whole script as one string.
func (s Script) Text() string { return strings.Join(s.Lines, " ") }

// LoadScripts reads every *.txt in dir: a first line "# label: what it is", then one
// sentence per line.
func LoadScripts(dir string) ([]Script, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Script
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		s := Script{Name: strings.TrimSuffix(filepath.Base(n), ".txt")}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			switch {
			case line == "":
			case strings.HasPrefix(line, "#"):
				label, about, _ := strings.Cut(strings.TrimSpace(line[1:]), ":")
				s.Label, s.About = strings.TrimSpace(label), strings.TrimSpace(about)
			default:
				s.Lines = append(s.Lines, line)
			}
		}
		if s.Label != "scam" && s.Label != "benign" || len(s.Lines) == 0 {
			return nil, fmt.Errorf("%s: want a first line '# scam: ...' or '# benign: ...' and sentences", n)
		}
		out = append(out, s)
	}
	return out, nil
}

// Gap is the pause between sentences, as a speaker takes breath.
const Gap = 700 * time.Millisecond

// Voice is the espeak-ng voice: US English suits pocketsphinx's en-us acoustic model.
const Voice = "en-us"

// Audio is a script spoken as 8 kHz mu-law, and where each sentence ends in it.
type Audio struct {
	Ulaw []byte
	Ends []time.Duration
}

var cache sync.Map // script name -> Audio

// Speak synthesises s, one sentence at a time with Gap between them and after the last.
// Ends are where each sentence's speech stops, before its gap.
func Speak(s Script) (Audio, error) {
	if a, ok := cache.Load(s.Name); ok {
		return a.(Audio), nil
	}
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			return Audio{}, fmt.Errorf("%s is needed to make test speech (Debian package %s; `make test-deps` installs it)", tool, tool)
		}
	}
	gap := bytes.Repeat([]byte{0xff}, int(Gap.Seconds()*8000)) // mu-law silence
	var a Audio
	for _, line := range s.Lines {
		wav, err := exec.Command("espeak-ng", "-v", Voice, "-s", "150", "--stdout", line).Output()
		if err != nil {
			return Audio{}, fmt.Errorf("espeak-ng %q: %w", line, err)
		}
		// -D: no random dither, so the audio is the same every run; the silence effects
		// trim espeak-ng's own leading and trailing silence, so Ends are where speech ends.
		sox := exec.Command("sox", "-D", "-t", "wav", "-", "-t", "raw", "-r", "8000", "-c", "1", "-e", "u-law", "-",
			"silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse")
		sox.Stdin = bytes.NewReader(wav)
		ul, err := sox.Output()
		if err != nil {
			return Audio{}, fmt.Errorf("sox: %w", err)
		}
		a.Ulaw = append(a.Ulaw, ul...)
		a.Ends = append(a.Ends, time.Duration(len(a.Ulaw))*time.Second/8000)
		a.Ulaw = append(a.Ulaw, gap...)
	}
	cache.Store(s.Name, a)
	return a, nil
}

// Recognise streams a's audio through a new stream of r in 20 ms frames, as a call's tap
// does, and returns every utterance.
func Recognise(r speech.Recognizer, a Audio) ([]speech.Utterance, error) {
	st, err := r.Start("test")
	if err != nil {
		return nil, err
	}
	var dec speech.Decoder
	var out []speech.Utterance
	for off := 0; off < len(a.Ulaw); off += 160 {
		us, err := st.Write(dec.Decode(speech.PCMU, a.Ulaw[off:min(off+160, len(a.Ulaw))]))
		if err != nil {
			st.Close()
			return nil, err
		}
		out = append(out, us...)
	}
	us, err := st.Close()
	return append(out, us...), err
}
