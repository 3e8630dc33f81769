//go:build cgo

package sphinx

/*
#cgo pkg-config: pocketsphinx
#include <stdlib.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>

static ps_decoder_t *clearline_init(int argc, char **argv) {
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, 1);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

// clearline_cmn_save copies the decoder's running cepstral mean.
static mfcc_t *clearline_cmn_save(ps_decoder_t *ps) {
	cmn_t *cmn = ps_get_feat(ps)->cmn_struct;
	if (cmn == NULL) return NULL;
	mfcc_t *v = malloc(sizeof(mfcc_t) * cmn->veclen);
	cmn_live_get(cmn, v);
	return v;
}

// clearline_cmn_restore sets the decoder's running cepstral mean to a saved one.
static void clearline_cmn_restore(ps_decoder_t *ps, mfcc_t *v) {
	cmn_t *cmn = ps_get_feat(ps)->cmn_struct;
	if (cmn != NULL && v != NULL) cmn_live_set(cmn, v);
}

// clearline_read_lm reads a language model on its own, for looking words up.
static ngram_model_t *clearline_read_lm(const char *path, logmath_t **lmath) {
	err_set_logfp(NULL); // as every decoder's -logfn /dev/null does
	*lmath = logmath_init(1.0001, 0, 0);
	return ngram_model_read(NULL, path, NGRAM_AUTO, *lmath);
}

// clearline_unigram is the log probability of word in lm, or 1 if it has none.
static int32 clearline_unigram(ngram_model_t *lm, const char *word) {
	int32 wid = ngram_wid(lm, word), n;
	if (wid == ngram_unknown_wid(lm)) return 1;
	return ngram_ng_score(lm, wid, NULL, 0, &n);
}

// clearline_mix makes the decoder search a linear interpolation of the domain and general
// language models, weighted w and 1-w. The set owns the two models it is made of, and the
// search keeps its own reference to the set.
static int clearline_mix(ps_decoder_t *ps, const char *domain, const char *general, float w) {
	cmd_ln_t *cfg = ps_get_config(ps);
	logmath_t *lmath = ps_get_logmath(ps);
	ngram_model_t *lms[2];
	lms[0] = ngram_model_read(cfg, domain, NGRAM_AUTO, lmath);
	if (lms[0] == NULL) return -1;
	lms[1] = ngram_model_read(cfg, general, NGRAM_AUTO, lmath);
	if (lms[1] == NULL) { ngram_model_free(lms[0]); return -1; }
	char *names[2] = {"domain", "general"};
	float32 weights[2] = {w, 1 - w};
	ngram_model_t *set = ngram_model_set_init(cfg, lms, names, weights, 2);
	if (set == NULL) return -1;
	int rv = ps_set_lm(ps, "mixed", set);
	ngram_model_free(set);
	if (rv < 0) return -1;
	return ps_set_search(ps, "mixed");
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/clearline/clearline/internal/speech"
)

// Built says whether this build has pocketsphinx in it: it has.
const Built = true

// Recognizer is a pool of pocketsphinx decoders.
type Recognizer struct {
	opts Options
	args []string
	mix  *mix
	dir  string
	// setup, when set, prepares each decoder after it is loaded (grammar.go's searches).
	setup func(*decoder) error

	mu     sync.Mutex
	free   []*decoder
	made   int
	closed bool
}

type decoder struct {
	ps   *C.ps_decoder_t
	mean *C.mfcc_t // the cepstral mean after the warm-up, for Options.FreshMean
	// whole is a grammar decoder's front end for a whole answer: every frame, none
	// dropped as silence (grammar.go).
	whole *C.fe_t
}

func (d *decoder) free() {
	if d.whole != nil {
		C.fe_free(d.whole)
	}
	C.ps_free(d.ps)
	C.free(unsafe.Pointer(d.mean))
}

// commonWords returns the n words of the language model at path that it finds most
// likely on their own, among candidates.
func commonWords(path string, candidates []string, n int) ([]string, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var lmath *C.logmath_t
	lm := C.clearline_read_lm(cpath, &lmath)
	if lm == nil {
		return nil, fmt.Errorf("pocketsphinx cannot read the language model %s", path)
	}
	defer C.logmath_free(lmath)
	defer C.ngram_model_free(lm)
	type scored struct {
		w string
		s int32
	}
	var ws []scored
	for _, w := range candidates {
		cw := C.CString(w)
		if sc := int32(C.clearline_unigram(lm, cw)); sc <= 0 {
			ws = append(ws, scored{w, sc})
		}
		C.free(unsafe.Pointer(cw))
	}
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].s > ws[j].s })
	out := make([]string, 0, min(n, len(ws)))
	for _, w := range ws[:min(n, len(ws))] {
		out = append(out, w.w)
	}
	return out, nil
}

// New loads one decoder at once, so that a missing model is reported at start-up; the rest
// are loaded when first needed.
func New(o Options) (speech.Recognizer, error) {
	if o.ModelDir == "" {
		o.ModelDir = DefaultModelDir
	}
	if o.Decoders <= 0 {
		o.Decoders = 1
	}
	switch {
	case o.Alternatives == 0:
		o.Alternatives = DefaultAlternatives
	case o.Alternatives < 0:
		o.Alternatives = 0
	}
	dir, err := os.MkdirTemp("", "clearline-sphinx-")
	if err != nil {
		return nil, err
	}
	args, mx, err := o.files(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	r := &Recognizer{opts: o, args: args, mix: mx, dir: dir}
	d, err := r.load()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	r.free, r.made = []*decoder{d}, 1
	go r.preload()
	return r, nil
}

// preload loads the other decoders in the background, so that the first busy minutes of
// calls do not pay for loading them (each takes about half a second of CPU).
func (r *Recognizer) preload() {
	for {
		r.mu.Lock()
		if r.closed || r.made >= r.opts.Decoders {
			r.mu.Unlock()
			return
		}
		r.made++
		r.mu.Unlock()
		d, err := r.load()
		if err != nil {
			r.mu.Lock()
			r.made--
			r.mu.Unlock()
			return
		}
		r.put(d)
	}
}

func (r *Recognizer) load() (*decoder, error) {
	argv := make([]*C.char, len(r.args))
	for i, a := range r.args {
		argv[i] = C.CString(a)
		defer C.free(unsafe.Pointer(argv[i]))
	}
	ps := C.clearline_init(C.int(len(argv)), &argv[0])
	if ps == nil {
		return nil, fmt.Errorf("pocketsphinx would not start with %s", strings.Join(r.args, " "))
	}
	d := &decoder{ps: ps}
	if r.mix != nil {
		dom, gen := C.CString(r.mix.domain), C.CString(r.mix.general)
		rv := C.clearline_mix(ps, dom, gen, C.float(r.mix.weight))
		C.free(unsafe.Pointer(dom))
		C.free(unsafe.Pointer(gen))
		if rv < 0 {
			C.ps_free(ps)
			return nil, fmt.Errorf("pocketsphinx would not mix %s with %s", r.mix.domain, r.mix.general)
		}
	}
	if r.setup != nil {
		if err := r.setup(d); err != nil {
			C.ps_free(ps)
			return nil, err
		}
	}
	if err := d.warmUp(); err != nil {
		C.ps_free(ps)
		return nil, err
	}
	if r.opts.FreshMean {
		d.mean = C.clearline_cmn_save(ps)
	}
	return d, nil
}

// warmUp decodes a few seconds of telephone speech and throws the words away. The
// decoder's running cepstral mean starts at the acoustic model's value for wide-band
// microphone speech; without this, the first utterance of the first call it hears — the
// caller saying who they are — is decoded against the wrong mean and mostly lost.
func (d *decoder) warmUp() error {
	ulaw, err := model.ReadFile("model/warmup.ul")
	if err != nil {
		return err
	}
	if C.ps_start_utt(d.ps) < 0 {
		return errors.New("pocketsphinx: cannot start an utterance")
	}
	var dec speech.Decoder
	for off := 0; off < len(ulaw); off += 160 {
		pcm := dec.Decode(speech.PCMU, ulaw[off:min(off+160, len(ulaw))])
		C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&pcm[0])), C.size_t(len(pcm)), 0, 0)
	}
	C.ps_end_utt(d.ps)
	return nil
}

// Name is "pocketsphinx/" and the mode.
func (r *Recognizer) Name() string { return "pocketsphinx/" + string(r.opts.Mode) }

// Start takes a free decoder, loading one if fewer than Decoders exist.
func (r *Recognizer) Start(string) (speech.Stream, error) {
	d, err := r.take()
	if err != nil {
		return nil, err
	}
	C.clearline_cmn_restore(d.ps, d.mean) // nothing without FreshMean
	if C.ps_start_utt(d.ps) < 0 {
		r.put(d)
		return nil, errors.New("pocketsphinx: cannot start an utterance")
	}
	return &stream{r: r, d: d}, nil
}

// take takes a free decoder, loading one if fewer than Decoders exist; put gives it back.
func (r *Recognizer) take() (*decoder, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return nil, errors.New("speech: recogniser closed")
	case len(r.free) > 0:
		d := r.free[len(r.free)-1]
		r.free = r.free[:len(r.free)-1]
		return d, nil
	case r.made < r.opts.Decoders:
		r.made++
		r.mu.Unlock()
		d, err := r.load()
		r.mu.Lock()
		if err != nil {
			r.made--
			return nil, err
		}
		return d, nil
	}
	return nil, speech.ErrBusy
}

func (r *Recognizer) put(d *decoder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		d.free()
		r.made--
		return
	}
	r.free = append(r.free, d)
}

// Close frees the idle decoders; busy ones are freed as their streams close.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	for _, d := range r.free {
		d.free()
		r.made--
	}
	r.free = nil
	return os.RemoveAll(r.dir)
}

// stream feeds one decoder, cutting utterances where its voice activity detector hears
// the speech stop.
type stream struct {
	r        *Recognizer
	d        *decoder
	written  int64 // samples so far
	speaking bool
	start    int64
	done     bool
}

func (s *stream) Write(samples []int16) ([]speech.Utterance, error) {
	if s.done {
		return nil, errors.New("speech: stream closed")
	}
	if len(samples) == 0 {
		return nil, nil
	}
	if C.ps_process_raw(s.d.ps, (*C.int16)(unsafe.Pointer(&samples[0])), C.size_t(len(samples)), 0, 0) < 0 {
		return nil, errors.New("pocketsphinx: decoding failed")
	}
	s.written += int64(len(samples))
	in := C.ps_get_in_speech(s.d.ps) != 0
	switch {
	case in && !s.speaking:
		s.speaking, s.start = true, max(0, s.written-int64(len(samples)))
	case !in && s.speaking:
		s.speaking = false
		u, err := s.cut()
		if err != nil || u == nil {
			return nil, err
		}
		return []speech.Utterance{*u}, nil
	}
	return nil, nil
}

// cut ends the utterance, reads its words and starts the next one.
func (s *stream) cut() (*speech.Utterance, error) {
	if C.ps_end_utt(s.d.ps) < 0 {
		return nil, errors.New("pocketsphinx: cannot end the utterance")
	}
	var score C.int32
	text := ""
	if h := C.ps_get_hyp(s.d.ps, &score); h != nil {
		text = words(C.GoString(h))
	}
	var alts []string
	if text != "" && s.r.opts.Alternatives > 0 {
		alts = s.d.nbest(text, s.r.opts.Alternatives)
	}
	if C.ps_start_utt(s.d.ps) < 0 {
		return nil, errors.New("pocketsphinx: cannot start an utterance")
	}
	if text == "" {
		return nil, nil
	}
	return &speech.Utterance{Text: text, Start: speech.SampleTime(s.start), End: speech.SampleTime(s.written), Alternatives: alts}, nil
}

// nbest reads up to n readings of the last utterance other than best from its lattice.
func (d *decoder) nbest(best string, n int) []string {
	var out []string
	nb := C.ps_nbest(d.ps)
	for tries := 0; nb != nil && len(out) < n && tries < 4*n; tries++ {
		var score C.int32
		if h := C.ps_nbest_hyp(nb, &score); h != nil {
			if t := words(C.GoString(h)); t != "" && t != best && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
		nb = C.ps_nbest_next(nb) // frees the iterator at the end
	}
	if nb != nil {
		C.ps_nbest_free(nb)
	}
	return out
}

// words is a hypothesis without pocketsphinx's markers (<s>, <sil>, [NOISE]) and
// alternative-pronunciation suffixes ("the(2)").
func words(hyp string) string {
	var out []string
	for _, w := range strings.Fields(hyp) {
		if strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") {
			continue
		}
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i]
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

func (s *stream) Close() ([]speech.Utterance, error) {
	if s.done {
		return nil, nil
	}
	s.done = true
	defer s.r.put(s.d)
	var out []speech.Utterance
	if s.speaking {
		u, err := s.cut()
		if err != nil {
			return nil, err
		}
		if u != nil {
			out = append(out, *u)
		}
	}
	C.ps_end_utt(s.d.ps)
	return out, nil
}
