// Command adaptgen writes what adapting the recogniser's acoustic model to the telephone
// line (MLLR, scripts/adapt.sh; `make adapt`) needs: sentences of the detector's training
// corpus and strings of digits, each spoken by voices that are not on the voice bench
// (espeak-ng's Caribbean, Lancaster and West Midlands English, a Caribbean female, festival's
// ked), down the bench's telephone line (band-limited, G.711 µ-law, hiss clean / 30 dB /
// 20 dB in turn), then decoded as a call's audio is for the recogniser: G.711 and the
// guard's upsampler to 16 kHz. It writes NAME.raw (16-bit little-endian, 16 kHz),
// adapt.fileids and adapt.transcription in the form sphinxtrain's bw reads. With -mixw it
// instead writes the model's mixture weights from its quantised sendump, and with -mdef its
// model definition as text: sphinxtrain reads neither as Debian ships them.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/detect/garble"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/voices"
)

// Voices are the adaptation's speakers, none of the voice bench's, so that the bench still
// measures voices the model was not adapted to. Adapted on the first three alone (one
// synthesiser), the model learned espeak-ng rather than the line: real recordings were heard
// no better.
var Voices = []voices.Voice{
	{Name: "adapt-espeak-en-029", Engine: voices.Espeak, ID: "en-029", Speed: 150, Pitch: 50},
	{Name: "adapt-espeak-en-gb-x-gbclan", Engine: voices.Espeak, ID: "en-gb-x-gbclan", Speed: 140, Pitch: 40},
	{Name: "adapt-espeak-en-gb-x-gbcwmd", Engine: voices.Espeak, ID: "en-gb-x-gbcwmd", Speed: 165, Pitch: 60},
	{Name: "adapt-festival-ked", Engine: voices.Festival, ID: "ked_diphone"},
	{Name: "adapt-espeak-en-029-f", Engine: voices.Espeak, ID: "en-029+f3", Speed: 145, Pitch: 70},
}

var digitWords = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "oh"}

func main() {
	out := flag.String("out", "", "directory to write the adaptation set to")
	corpus := flag.String("corpus", "testdata/detect/train.jsonl", "the detector's training corpus (sentences)")
	dict := flag.String("dict", garble.DefaultDict, "the pronouncing dictionary: sentences with other words are left out")
	sentences := flag.Int("sentences", 120, "sentences of the corpus per voice")
	digits := flag.Int("digits", 40, "digit strings per voice")
	mixw := flag.String("mixw", "", "instead, write the model's mixture weights from its sendump (-mixw SENDUMP OUT): sphinxtrain needs them, Debian ships them quantised")
	mdef := flag.String("mdef", "", "instead, write the model's binary model definition as text (-mdef MDEF OUT)")
	flag.Parse()
	if *mdef != "" {
		fail(mdefText(*mdef, flag.Arg(0)))
		return
	}
	if *mixw != "" {
		fail(writeMixw(*mixw, flag.Arg(0)))
		return
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "adaptgen: -out DIR is required")
		os.Exit(2)
	}
	fail(run(*out, *corpus, *dict, *sentences, *digits))
}

// fail ends the command when err is not nil.
func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "adaptgen:", err)
		os.Exit(1)
	}
}

func run(out, corpus, dict string, nSent, nDigits int) error {
	known, err := words(dict)
	if err != nil {
		return err
	}
	texts, err := corpusSentences(corpus, known)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var ids, trans strings.Builder
	rng := rand.New(rand.NewPCG(7, 11))
	n := 0
	for vi, v := range Voices {
		var said []string
		for i := range nSent {
			said = append(said, texts[(vi*nSent+i)%len(texts)])
		}
		for range nDigits {
			k := 3 + rng.IntN(5)
			var d []string
			for range k {
				d = append(d, digitWords[rng.IntN(len(digitWords))])
			}
			said = append(said, strings.Join(d, " "))
		}
		for i, text := range said {
			snr := []float64{0, 30, 20}[i%3]
			sp, err := v.Speak(voices.Line{SNR: snr, Seed: uint64(i)}, text)
			if err != nil {
				return err
			}
			ulaw := sp.Ulaw[:int(sp.Ends[0].Seconds()*8000)+2400] // the words and 0.3 s after
			var dec speech.Decoder
			var pcm []int16
			for off := 0; off < len(ulaw); off += 160 {
				pcm = append(pcm, dec.Decode(speech.PCMU, ulaw[off:min(off+160, len(ulaw))])...)
			}
			name := fmt.Sprintf("%s-%03d", v.Name, i)
			f, err := os.Create(filepath.Join(out, name+".raw"))
			if err != nil {
				return err
			}
			if err := binary.Write(f, binary.LittleEndian, pcm); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintln(&ids, name)
			fmt.Fprintf(&trans, "<s> %s </s> (%s)\n", text, name)
			n++
		}
		fmt.Fprintf(os.Stderr, "adaptgen: %s: %d utterances\n", v.Name, len(said))
	}
	if err := os.WriteFile(filepath.Join(out, "adapt.fileids"), []byte(ids.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "adaptgen: %d utterances in %s\n", n, out)
	return os.WriteFile(filepath.Join(out, "adapt.transcription"), []byte(trans.String()), 0o644)
}

// words are the dictionary's words.
func words(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	known := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if w, _, ok := strings.Cut(sc.Text(), " "); ok && !strings.Contains(w, "(") {
			known[w] = true
		}
	}
	return known, sc.Err()
}

// corpusSentences are the corpus's lines of four to sixteen words, every word in the
// dictionary, each once, shuffled with a fixed seed.
func corpusSentences(path string, known map[string]bool) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	calls, errs := detect.ReadTranscripts(f, false)
	f.Close()
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: line %d: %v", path, errs[0].Line, errs[0].Err)
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range calls {
		for _, seg := range c.Segments {
			ws := strings.Fields(seg.Text)
			ok := len(ws) >= 4 && len(ws) <= 16 && !seen[seg.Text]
			for _, w := range ws {
				ok = ok && known[w]
			}
			if ok {
				seen[seg.Text] = true
				out = append(out, seg.Text)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no sentence to say", path)
	}
	// Spread over the corpus's call types rather than its first calls.
	rand.New(rand.NewPCG(3, 5)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

// writeMixw writes the mixture weights quantised in a pocketsphinx sendump as a sphinxtrain
// (s3) mixture_weights file: each byte b is the weight 1.0001^-(b<<shift).
func writeMixw(sendump, out string) error {
	if out == "" {
		return fmt.Errorf("-mixw SENDUMP OUT: no OUT")
	}
	b, err := os.ReadFile(sendump)
	if err != nil {
		return err
	}
	at := 0
	u32 := func() (int, error) {
		if at+4 > len(b) {
			return 0, fmt.Errorf("%s: truncated", sendump)
		}
		v := int(binary.LittleEndian.Uint32(b[at:]))
		at += 4
		return v, nil
	}
	str := func() (string, error) {
		n, err := u32()
		if err != nil || n == 0 {
			return "", err
		}
		if at+n > len(b) {
			return "", fmt.Errorf("%s: truncated", sendump)
		}
		s := string(b[at : at+n-1])
		at += n
		return s, nil
	}
	if _, err := str(); err != nil { // the title
		return err
	}
	shift, feats, clusters := 10, 0, 0
	for {
		h, err := str()
		if err != nil {
			return err
		}
		if h == "" {
			break
		}
		var k string
		var v int
		if _, err := fmt.Sscan(h, &k, &v); err == nil {
			switch k {
			case "mixw_shift":
				shift = v
			case "feature_count":
				feats = v
			case "cluster_count":
				clusters = v
			}
		}
	}
	if clusters != 0 || feats == 0 {
		return fmt.Errorf("%s: a clustered sendump, or no feature count: not supported", sendump)
	}
	densities, err := u32()
	if err != nil {
		return err
	}
	senones, err := u32()
	if err != nil {
		return err
	}
	if at+feats*densities*senones > len(b) {
		return fmt.Errorf("%s: truncated", sendump)
	}
	w := make([]float32, senones*feats*densities) // [senone][feature][density]
	for f := range feats {
		for d := range densities {
			for s := range senones {
				q := int(b[at]) << shift
				at++
				w[(s*feats+f)*densities+d] = float32(math.Pow(1.0001, -float64(q)))
			}
		}
	}
	var o []byte
	o = append(o, "s3\nversion 1.0\nendhdr\n"...)
	o = binary.LittleEndian.AppendUint32(o, 0x11223344)
	for _, v := range []int{senones, feats, densities, len(w)} {
		o = binary.LittleEndian.AppendUint32(o, uint32(v))
	}
	for _, v := range w {
		o = binary.LittleEndian.AppendUint32(o, math.Float32bits(v))
	}
	fmt.Fprintf(os.Stderr, "adaptgen: %d senones, %d features, %d densities\n", senones, feats, densities)
	return os.WriteFile(out, o, 0o644)
}
