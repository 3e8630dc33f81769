package listen

import (
	"math"
	"testing"

	"github.com/zaf/g711"

	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/wav"
)

// A recording reaches the tap as the line would carry it: G.711 as it is, with its own
// payload type, and PCM at any rate resampled to 8 kHz and encoded as µ-law.
func TestOnTheLine(t *testing.T) {
	tone := func(rate int, secs float64) []int16 {
		pcm := make([]int16, int(float64(rate)*secs))
		for i := range pcm {
			pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		}
		return pcm
	}
	ulaw := g711.EncodeUlaw(pcmBytes(tone(8000, 0.5)))
	alaw := g711.EncodeAlaw(pcmBytes(tone(8000, 0.5)))
	if pt, got := OnTheLine(&wav.Audio{Encoding: wav.ULaw, Rate: 8000, G711: ulaw}); pt != speech.PCMU || &got[0] != &ulaw[0] {
		t.Errorf("µ-law: payload type %d, bytes copied or changed", pt)
	}
	if pt, got := OnTheLine(&wav.Audio{Encoding: wav.ALaw, Rate: 8000, G711: alaw}); pt != speech.PCMA || &got[0] != &alaw[0] {
		t.Errorf("A-law: payload type %d, bytes copied or changed", pt)
	}
	for _, rate := range []int{8000, 16000, 44100} {
		pt, got := OnTheLine(&wav.Audio{Encoding: wav.PCM16, Rate: rate, PCM: tone(rate, 0.5)})
		if pt != speech.PCMU || len(got) < 3900 || len(got) > 4100 {
			t.Errorf("PCM at %d Hz: payload type %d, %d bytes for half a second at 8 kHz", rate, pt, len(got))
			continue
		}
		// The tone survives: its level after µ-law decoding is near what was recorded.
		var sum float64
		for _, b := range got[1000:3000] {
			v := float64(g711.DecodeUlawFrame(b))
			sum += v * v
		}
		if rms := math.Sqrt(sum / 2000); rms < 8000/math.Sqrt2*0.5 || rms > 8000/math.Sqrt2*1.5 {
			t.Errorf("PCM at %d Hz: the 440 Hz tone's level is %.0f after the line, want about %.0f", rate, rms, 8000/math.Sqrt2)
		}
	}
}

func pcmBytes(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		b[2*i], b[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	return b
}
