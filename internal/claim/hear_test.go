package claim_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/sphinx"
	"github.com/clearline/clearline/internal/speech/voices"
)

func grammar(t testing.TB) speech.Grammar {
	t.Helper()
	c := claim.Builtin()
	g, err := sphinx.NewGrammar(sphinx.GrammarOptions{Decoders: 1, Grammars: c.Grammars(), WordPenalty: claim.WordPenalties, EveryFrame: claim.EveryFrame, Words: c.Words(), Pronounce: c.Pronounce})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func say(t testing.TB, voice, text string) []byte {
	t.Helper()
	v, err := voices.Find(voice)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := v.Speak(voices.Line{SNR: 25, Seed: 3}, text)
	if err != nil {
		t.Fatal(err)
	}
	return sp.Ulaw[:int(sp.Ends[0].Seconds()*8000)]
}

// An answer is heard whole and ends shortly after the caller stops speaking; the words are
// the grammar's.
func TestHearEndsAtThePause(t *testing.T) {
	g := grammar(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	audio := append(bytes.Repeat([]byte{0xff}, 4000), say(t, "flite-kal", "I'm calling from the Metropolitan Police.")...)
	start := time.Now()
	h, err := claim.Hear(ctx, g, claim.WhoGrammar, claim.Play(ctx, audio), nil, claim.DefaultLimits)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	spoken := time.Duration(len(audio)) * time.Second / 8000
	if !h.Answered() || !strings.Contains(h.Words, "metropolitan police") {
		t.Errorf("heard %+v", h)
	}
	if took < spoken+300*time.Millisecond || took > spoken+1500*time.Millisecond {
		t.Errorf("the answer ended %v after it began; the speech lasts %v", took, spoken)
	}
}

// A caller who says nothing is heard as not answering once Start has passed; one who talks
// on past Longest (a recording) has not answered either.
func TestHearSilenceAndRecordings(t *testing.T) {
	g := grammar(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lim := claim.Limits{Start: time.Second, Longest: 2 * time.Second, Pause: 500 * time.Millisecond}
	start := time.Now()
	h, err := claim.Hear(ctx, g, claim.WhoGrammar, claim.Play(ctx, nil), nil, lim)
	if err != nil || h.Spoke || h.Answered() {
		t.Errorf("silence heard as %+v, %v", h, err)
	}
	if took := time.Since(start); took < lim.Start || took > lim.Start+500*time.Millisecond {
		t.Errorf("silence took %v", took)
	}
	talk := say(t, "espeak-en-us-s150-p50", "This is an important message about your account, please stay on the line to speak to an adviser about it")
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	h, err = claim.Hear(ctx2, g, claim.WhoGrammar, claim.Play(ctx2, talk), nil, lim)
	if err != nil || !h.Spoke || h.Finished || h.Answered() {
		t.Errorf("a recording talking on heard as %+v, %v", h, err)
	}
}

// A caller may key the ID number in: the keys are the answer, ended by #, whatever the
// grammar made of the line meanwhile.
func TestHearKeyedIn(t *testing.T) {
	g := grammar(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	keys := make(chan byte, 8)
	for _, k := range []byte("4721#") {
		keys <- k
	}
	h, err := claim.Hear(ctx, g, claim.IDGrammar, claim.Play(ctx, nil), keys, claim.DefaultLimits)
	if err != nil || h.Keyed != "4721" || !h.Answered() {
		t.Errorf("keyed in: %+v, %v", h, err)
	}
	keys <- '5'
	keys <- '0'
	start := time.Now()
	h, err = claim.Hear(ctx, g, claim.IDGrammar, claim.Play(ctx, nil), keys, claim.DefaultLimits)
	if err != nil || h.Keyed != "50" || !h.Answered() || time.Since(start) > 3*time.Second {
		t.Errorf("keyed in without #: %+v, %v after %v", h, err, time.Since(start))
	}
}

// A caller pressing a key now and then cannot hold the decoder: keying ends when the time
// for starting and giving an answer is up, or at the longest ID number.
func TestHearKeyingIsLimited(t *testing.T) {
	g := grammar(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	keys := make(chan byte)
	go func() {
		for {
			select {
			case keys <- '7':
			case <-ctx.Done():
				return
			}
			time.Sleep(time.Second) // under keyPause: each key keeps the answer open
		}
	}()
	lim := claim.Limits{Start: time.Second, Longest: 2 * time.Second, Pause: 500 * time.Millisecond}
	start := time.Now()
	h, err := claim.Hear(ctx, g, claim.IDGrammar, claim.Play(ctx, nil), keys, lim)
	if took := time.Since(start); err != nil || took > 4*time.Second || h.Keyed == "" {
		t.Errorf("keys every second: %+v, %v after %v; want the answer over within Start+Longest", h, err, took)
	}
	fast := make(chan byte, 20)
	for range 20 {
		fast <- '3'
	}
	h, err = claim.Hear(ctx, g, claim.IDGrammar, claim.Play(ctx, nil), fast, claim.DefaultLimits)
	if err != nil || h.Keyed != "3333333" {
		t.Errorf("twenty keys at once: %+v, %v; want the answer over at %d digits", h, err, claim.MaxIDDigits)
	}
}

// The grammar decoder's work for one asked call: the caller's answer to "which organisation"
// and their ID number, each with the hiss before it, decoded as the guard decodes them.
// speech-s/op is the audio each call brings; ns/op over it is the CPU per second of speech.
func BenchmarkAskedCallAnswers(b *testing.B) {
	g := grammar(b)
	v, err := voices.Find("flite-kal")
	if err != nil {
		b.Fatal(err)
	}
	var answers [][]byte
	for _, text := range []string{"I'm calling from the Metropolitan Police.", "My collar number is four seven two one."} {
		sp, err := v.Speak(voices.Line{SNR: 20, Seed: 1}, text)
		if err != nil {
			b.Fatal(err)
		}
		hiss := sp.Ulaw[int(sp.Ends[0].Seconds()*8000):]
		answers = append(answers, append(append([]byte(nil), hiss[:4000]...), sp.Ulaw...))
	}
	grammars := []string{claim.WhoGrammar, claim.IDGrammar}
	var audio time.Duration
	for _, a := range answers {
		audio += time.Duration(len(a)) * time.Second / 8000
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i, ulaw := range answers {
			a, err := g.Hear(grammars[i])
			if err != nil {
				b.Fatal(err)
			}
			var dec speech.Decoder
			for off := 0; off < len(ulaw); off += 160 {
				if _, err := a.Write(dec.Decode(speech.PCMU, ulaw[off:min(off+160, len(ulaw))])); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := a.End(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(audio.Seconds(), "speech-s/op")
}
