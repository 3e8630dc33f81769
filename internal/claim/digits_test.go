package claim_test

import (
	"testing"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/voices"
)

// ID numbers said digit by digit down a noisy telephone line are heard exactly. The
// grammar decoder hears a whole answer through a front end that drops no frame as silence:
// the recogniser's own voice activity detector took the weak telephone-band fricatives of
// "six", "seven", "five" and "zero" for silence and cut them out before the search, and
// five of these answers were heard wrong ("nine zero seven one" as "one zero seven one": the
// nasal onset of "nine" cut too). The last two lead with "it's" alone, which the grammar allows.
func TestHearIDNumbersExactly(t *testing.T) {
	g := grammar(t)
	for _, c := range []struct{ voice, text, want string }{
		{"flite-kal", "nine zero seven one.", "9071"},
		{"flite-rms", "nine zero seven one.", "9071"},
		{"festival-kal", "nine zero seven one.", "9071"},
		{"flite-kal", "three four nine one nine.", "34919"},
		{"flite-kal", "My collar number is nine four nine zero three.", "94903"},
		{"festival-kal", "My collar number is nine four nine zero three.", "94903"},
		{"flite-kal", "It's five five three one four seven.", "553147"},
		{"flite-rms", "It's four zero three three nine one.", "403391"},
	} {
		v, err := voices.Find(c.voice)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := v.Speak(voices.Line{SNR: 20, Seed: 1}, c.text)
		if err != nil {
			t.Fatal(err)
		}
		hiss := sp.Ulaw[int(sp.Ends[0].Seconds()*8000):]
		ulaw := append(append([]byte(nil), hiss[:4000]...), sp.Ulaw...) // the breath before the answer
		a, err := g.Hear(claim.IDGrammar)
		if err != nil {
			t.Fatal(err)
		}
		var dec speech.Decoder
		for off := 0; off < len(ulaw); off += 160 {
			if _, err := a.Write(dec.Decode(speech.PCMU, ulaw[off:min(off+160, len(ulaw))])); err != nil {
				t.Fatal(err)
			}
		}
		h, err := a.End()
		if err != nil {
			t.Fatal(err)
		}
		if got := claim.Digits(h.Words); got != c.want {
			t.Errorf("%s %q heard as %q: %q, want %s", c.voice, c.text, h.Words, got, c.want)
		}
	}
}
