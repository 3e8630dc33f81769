package listen

import (
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/wav"
)

// OnTheLine is a recording as a telephone line would carry it to the guard: G.711 audio
// and its RTP payload type. µ-law and A-law are taken as they are; linear PCM at any rate
// is band-limited to the line's 8 kHz (speech.Telephone) and encoded as µ-law.
func OnTheLine(a *wav.Audio) (pt byte, g711 []byte) {
	switch a.Encoding {
	case wav.ULaw:
		return speech.PCMU, a.G711
	case wav.ALaw:
		return speech.PCMA, a.G711
	}
	return speech.PCMU, speech.EncodeULaw(speech.Telephone(a.PCM, a.Rate))
}
