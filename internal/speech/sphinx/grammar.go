//go:build cgo

package sphinx

/*
#include <stdlib.h>
#include <pocketsphinx.h>

// clearline_whole_fe makes a front end like the decoder's own but one that keeps every
// frame: the decoder's drops those its voice activity detector takes for silence, and on a
// telephone line that includes the weak fricatives of "six", "seven", "five" and "zero".
static fe_t *clearline_whole_fe(ps_decoder_t *ps) {
	cmd_ln_t *cfg = ps_get_config(ps);
	long was = cmd_ln_int_r(cfg, "-remove_silence");
	cmd_ln_set_int_r(cfg, "-remove_silence", 0);
	fe_t *fe = fe_init_auto_r(cfg);
	cmd_ln_set_int_r(cfg, "-remove_silence", was);
	return fe;
}

// clearline_decode_whole decodes a whole utterance through fe, every frame of it.
static int clearline_decode_whole(ps_decoder_t *ps, fe_t *fe, const int16 *pcm, size_t n) {
	mfcc_t **cep = NULL;
	int32 nfr = 0;
	if (fe_start_utt(fe) < 0 || fe_process_utt(fe, pcm, n, &cep, &nfr) < 0) return -1;
	int32 tail = 0;
	mfcc_t *last = malloc(sizeof(mfcc_t) * fe_get_output_size(fe));
	fe_end_utt(fe, last, &tail);
	free(last); // at most a part-frame of the answer's last hiss
	int rv = nfr > 0 ? ps_process_cep(ps, cep, nfr, 0, 1) : 0;
	if (cep != NULL) fe_free_2d(cep);
	return rv;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/clearline/clearline/internal/speech"
)

// Grammar is a pool of pocketsphinx decoders that hear answers against JSGF grammars.
type Grammar struct {
	r     *Recognizer
	has   map[string]bool
	every map[string]bool // GrammarOptions.EveryFrame
}

var _ speech.Grammar = (*Grammar)(nil)

// NewGrammar loads one decoder with every grammar of o, so that a grammar or a word that
// will not load is reported at start-up; the rest are loaded in the background.
func NewGrammar(o GrammarOptions) (speech.Grammar, error) {
	if o.ModelDir == "" {
		o.ModelDir = DefaultModelDir
	}
	if o.Decoders <= 0 {
		o.Decoders = 1
	}
	if len(o.Grammars) == 0 || len(o.Words) == 0 {
		return nil, errors.New("pocketsphinx: no grammar to hear answers against")
	}
	dir, err := os.MkdirTemp("", "clearline-grammar-")
	if err != nil {
		return nil, err
	}
	args, err := o.files(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	names := make([]string, 0, len(o.Grammars))
	for n := range o.Grammars {
		names = append(names, n)
	}
	sort.Strings(names)
	r := &Recognizer{opts: Options{Mode: "grammar", ModelDir: o.ModelDir, Decoders: o.Decoders}, args: args, dir: dir}
	r.setup = func(d *decoder) error {
		for _, n := range append(names, listening) {
			text := o.Grammars[n]
			if n == listening {
				text = listeningGrammar(o.Words[0])
			}
			cn, ct := C.CString(n), C.CString(text)
			// A search takes the word insertion penalty in force when it is made.
			cfg, wip := C.ps_get_config(d.ps), C.CString("-wip")
			was := C.cmd_ln_float_r(cfg, wip)
			if p, ok := o.WordPenalty[n]; ok {
				C.cmd_ln_set_float_r(cfg, wip, C.double(p))
			}
			rc := C.ps_set_jsgf_string(d.ps, cn, ct)
			C.cmd_ln_set_float_r(cfg, wip, was)
			C.free(unsafe.Pointer(wip))
			C.free(unsafe.Pointer(ct))
			C.free(unsafe.Pointer(cn))
			if rc < 0 {
				return fmt.Errorf("pocketsphinx would not load grammar %q", n)
			}
		}
		if d.whole = C.clearline_whole_fe(d.ps); d.whole == nil {
			return errors.New("pocketsphinx: cannot make a front end")
		}
		return d.use(names[0])
	}
	d, err := r.load()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	r.free, r.made = []*decoder{d}, 1
	go r.preload()
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	return &Grammar{r: r, has: has, every: o.EveryFrame}, nil
}

// listening is the search an answer is streamed through while the caller speaks: it only
// needs the recogniser's voice activity detector, which runs before any search, so its
// grammar is a single word and costs next to nothing. The answer is then decoded against
// the grammar asked for in one pass over the whole of it, with the answer's own cepstral
// mean rather than one carried over from the previous caller's line: decoded as it came,
// the first words of an answer on a line unlike the last were often lost.
const listening = "clearline-listening"

// listeningGrammar is the one-word grammar of the listening search: any word will do.
func listeningGrammar(word string) string {
	return "#JSGF V1.0;\ngrammar listening;\npublic <listening> = " + word + ";\n"
}

// use makes the named grammar the decoder's search.
func (d *decoder) use(name string) error {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if C.ps_set_search(d.ps, cn) < 0 {
		return fmt.Errorf("pocketsphinx: no grammar %q", name)
	}
	return nil
}

// Hear takes a free decoder and starts an answer against the named grammar.
func (g *Grammar) Hear(name string) (speech.Answer, error) {
	if name == listening || !g.has[name] {
		return nil, fmt.Errorf("pocketsphinx: no grammar %q", name)
	}
	d, err := g.r.take()
	if err != nil {
		return nil, err
	}
	if err := d.use(listening); err != nil {
		g.r.put(d)
		return nil, err
	}
	if C.ps_start_utt(d.ps) < 0 {
		g.r.put(d)
		return nil, errors.New("pocketsphinx: cannot start an utterance")
	}
	return &answer{r: g.r, d: d, grammar: name, every: g.every[name]}, nil
}

// Close frees the idle decoders; busy ones are freed as their answers end.
func (g *Grammar) Close() error { return g.r.Close() }

// answer is one answer on one decoder: unlike a call's stream, it is not cut at pauses, so
// an answer given in two breaths is heard whole.
type answer struct {
	r       *Recognizer
	d       *decoder
	grammar string
	every   bool    // decoded with every frame (GrammarOptions.EveryFrame)
	pcm     []int16 // the answer so far, decoded against the grammar when it ends
	done    bool
}

func (a *answer) Write(samples []int16) (bool, error) {
	if a.done {
		return false, errors.New("speech: answer ended")
	}
	a.pcm = append(a.pcm, samples...)
	if len(samples) > 0 && C.ps_process_raw(a.d.ps, (*C.int16)(unsafe.Pointer(&samples[0])), C.size_t(len(samples)), 0, 0) < 0 {
		return false, errors.New("pocketsphinx: decoding failed")
	}
	return C.ps_get_in_speech(a.d.ps) != 0, nil
}

func (a *answer) End() (speech.Heard, error) {
	if a.done {
		return speech.Heard{}, errors.New("speech: answer ended")
	}
	a.done = true
	defer a.r.put(a.d)
	if C.ps_end_utt(a.d.ps) < 0 {
		return speech.Heard{}, errors.New("pocketsphinx: cannot end the utterance")
	}
	if len(a.pcm) == 0 {
		return speech.Heard{}, nil
	}
	if err := a.d.use(a.grammar); err != nil {
		return speech.Heard{}, err
	}
	if C.ps_start_utt(a.d.ps) < 0 {
		return speech.Heard{}, errors.New("pocketsphinx: cannot start an utterance")
	}
	var rc C.int
	if a.every {
		rc = C.clearline_decode_whole(a.d.ps, a.d.whole, (*C.int16)(unsafe.Pointer(&a.pcm[0])), C.size_t(len(a.pcm))) // the whole answer
	} else {
		rc = C.ps_process_raw(a.d.ps, (*C.int16)(unsafe.Pointer(&a.pcm[0])), C.size_t(len(a.pcm)), 0, 1) // the whole answer
	}
	if C.ps_end_utt(a.d.ps) < 0 || rc < 0 {
		return speech.Heard{}, errors.New("pocketsphinx: decoding failed")
	}
	return a.d.heard(), nil
}

// heard reads the best path: its words, and the frames between the first and the last
// word given to silence or noise.
func (d *decoder) heard() speech.Heard {
	var words []string
	var spoken, gaps, pending C.int
	for seg := C.ps_seg_iter(d.ps); seg != nil; seg = C.ps_seg_next(seg) {
		var sf, ef C.int
		C.ps_seg_frames(seg, &sf, &ef)
		w := C.GoString(C.ps_seg_word(seg))
		if filler(w) {
			if len(words) > 0 {
				pending += ef - sf + 1
			}
			continue
		}
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i] // an alternative pronunciation, "the(2)"
		}
		words = append(words, w)
		spoken += ef - sf + 1
		gaps, pending = gaps+pending, 0
	}
	const frame = 10 * time.Millisecond
	return speech.Heard{Words: strings.Join(words, " "), Spoken: time.Duration(spoken) * frame, Unexplained: time.Duration(gaps) * frame}
}

// filler says whether a segment is silence, noise or a sentence marker, not a word.
func filler(w string) bool {
	return w == "" || w == "(NULL)" || w[0] == '<' || w[0] == '[' || w[0] == '+'
}

// files writes the dictionary of the grammars' words and returns the decoder's arguments.
func (o GrammarOptions) files(dir string) ([]string, error) {
	am := filepath.Join(o.ModelDir, "en-us")
	if _, err := os.Stat(filepath.Join(am, "mdef")); err != nil {
		return nil, fmt.Errorf("pocketsphinx acoustic model not found in %s (install Debian's pocketsphinx-en-us): %w", am, err)
	}
	dict, err := o.dictionary()
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, "grammar.dict")
	if err := os.WriteFile(p, dict, 0o644); err != nil {
		return nil, err
	}
	return append([]string{"-hmm", am, "-dict", p, "-vad_postspeech", "30", "-logfn", os.DevNull}, o.Args...), nil
}
