package speech

import (
	"math"

	"github.com/zaf/g711"
)

// LineRate is the sample rate of a G.711 telephone line, in Hz.
const LineRate = 8000

// Telephone band-limits linear samples at any rate as a telephone line does and returns
// them at LineRate: frequencies above about 3.4 kHz are cut before resampling (no
// aliasing) and those below 300 Hz after it, as a line's filters (ITU-T G.712) do. A
// recording from a microphone or a speech synthesiser then sounds to the recogniser as the
// same words would on a call.
func Telephone(pcm []int16, rate int) []int16 {
	if rate <= 0 || len(pcm) == 0 {
		return nil
	}
	// A windowed-sinc low-pass evaluated at each output instant (any ratio of rates):
	// -6 dB at 3.6 kHz, flat to about 3.3 kHz, at least 60 dB down by 4 kHz. Output
	// instants fall on LineRate/gcd different phases of the input, each with its own
	// weights, worked out once.
	const cutoff, halfWidth = 3600.0, 0.004            // Hz; seconds either side of the instant
	fc := min(cutoff, float64(rate)/2) / float64(rate) // cycles per input sample
	reach := int(math.Ceil(halfWidth * float64(rate)))
	phases := LineRate / gcd(rate, LineRate)
	weights := make([][]float64, phases)
	n := int(int64(len(pcm)) * LineRate / int64(rate))
	out := make([]float64, n)
	for i := range out {
		whole := int(int64(i) * int64(rate) / LineRate) // the input sample at or before the instant
		p := i % phases
		w := weights[p]
		if w == nil {
			frac := float64(int64(i)*int64(rate)%LineRate) / LineRate
			w = make([]float64, 2*reach+1)
			for j := range w {
				x := float64(j-reach) - frac
				w[j] = 2 * fc * sinc(2*fc*x) * blackman(x/float64(reach+1))
			}
			weights[p] = w
		}
		var v float64
		for j, wj := range w {
			if k := whole - reach + j; k >= 0 && k < len(pcm) {
				v += wj * float64(pcm[k])
			}
		}
		out[i] = v
	}
	highpass(out, 300)
	res := make([]int16, n)
	for i, v := range out {
		res[i] = clamp(float32(v))
	}
	return res
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// blackman is the Blackman window over x in [-1, 1].
func blackman(x float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	return 0.42 + 0.5*math.Cos(math.Pi*x) + 0.08*math.Cos(2*math.Pi*x)
}

// highpass filters x at LineRate in place: a second-order Butterworth section at f Hz.
func highpass(x []float64, f float64) {
	w := math.Tan(math.Pi * f / LineRate)
	q := math.Sqrt2
	norm := 1 / (1 + q*w + w*w)
	b0, b1, b2 := norm, -2*norm, norm
	a1, a2 := 2*(w*w-1)*norm, (1-q*w+w*w)*norm
	var x1, x2, y1, y2 float64
	for i, v := range x {
		y := b0*v + b1*x1 + b2*x2 - a1*y1 - a2*y2
		x2, x1, y2, y1 = x1, v, y1, y
		x[i] = y
	}
}

// EncodeULaw encodes linear samples as G.711 µ-law, as a line carries them.
func EncodeULaw(pcm []int16) []byte {
	out := make([]byte, len(pcm))
	for i, v := range pcm {
		out[i] = g711.EncodeUlawFrame(v)
	}
	return out
}
