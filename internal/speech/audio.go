package speech

import (
	"math"

	"github.com/zaf/g711"
)

// RTP payload types of the G.711 codecs.
const (
	PCMU = 0
	PCMA = 8
)

// Decoder turns 8 kHz G.711 frames into 16 kHz linear samples for a recogniser. It keeps
// the last input samples between frames so that the upsampling filter runs on without a
// seam. A Decoder belongs to one stream.
type Decoder struct {
	hist [taps - 1]float32 // the previous frame's last samples: the filter window runs across frames
	in   []float32
	out  []int16
}

// taps is the length, in input samples, of the interpolation filter's window.
const taps = 32

// halfband holds the interpolation weights for the sample halfway between two inputs: a
// windowed sinc (Hann), so speech up to 4 kHz passes and the images above are suppressed.
var halfband = func() (h [taps]float32) {
	var sum float64
	w := make([]float64, taps)
	for k := range taps {
		x := float64(k) - (taps-1)/2.0 // -3.5 ... 3.5: distances from the halfway point
		w[k] = math.Sin(math.Pi*x) / (math.Pi * x) * 0.5 * (1 + math.Cos(math.Pi*x/(taps/2)))
		sum += w[k]
	}
	for k := range taps {
		h[k] = float32(w[k] / sum)
	}
	return h
}()

// Decode converts one frame of payload type pt to 16 kHz samples. It returns nil for
// payload types that are not G.711 (comfort noise, telephone events). The returned slice
// is reused by the next call.
func (d *Decoder) Decode(pt byte, payload []byte) []int16 {
	decode := g711.DecodeUlawFrame
	switch pt {
	case PCMU:
	case PCMA:
		decode = g711.DecodeAlawFrame
	default:
		return nil
	}
	d.in = append(d.in[:0], d.hist[:]...)
	for _, b := range payload {
		d.in = append(d.in, float32(decode(b)))
	}
	// Each input sample is emitted as is, followed by the interpolated half-sample after
	// it. The filter needs taps/2 samples ahead, so output lags input by taps/2 samples.
	h := len(d.hist)
	d.out = d.out[:0]
	for i := 0; i+taps <= len(d.in); i++ {
		var v float32
		for k, w := range halfband {
			v += w * d.in[i+k]
		}
		d.out = append(d.out, clamp(d.in[i+taps/2-1]), clamp(v))
	}
	copy(d.hist[:], d.in[len(d.in)-h:])
	return d.out
}

func clamp(v float32) int16 {
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	}
	return int16(v)
}
