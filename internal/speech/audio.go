package speech

import (
	"fmt"
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
	// Upsampling chooses what goes into the 4-8 kHz band; the zero value is the default.
	Upsampling Upsampling

	hist [taps - 1]float32 // the previous frame's last samples: the filter window runs across frames
	in   []float32
	out  []int16
}

// Upsampling is how a Decoder makes the sample halfway between two of the line's, and so
// what lies in the 4-8 kHz band that a telephone line never carried but the recogniser's
// wide-band acoustic model listens to. Each is measured on real and synthetic voices in
// the README ("Listening in the call").
type Upsampling int

// The upsamplings. New values only at the end.
const (
	// Hann interpolates with a 32-tap Hann-windowed sinc: the images of the speech band
	// are suppressed but not removed, leaving some energy above 4 kHz.
	Hann Upsampling = iota
	// Blackman interpolates with a 32-tap Blackman-windowed sinc: less above 4 kHz.
	Blackman
	// Hold repeats each sample: the images stay, fading towards 8 kHz.
	Hold
	// Linear draws a straight line between samples: the images are weaker than Hold's.
	Linear
	// Mirror puts a zero between samples: the speech band is mirrored into 4-8 kHz at full
	// strength.
	Mirror
)

var upsamplingNames = []string{"hann", "blackman", "hold", "linear", "mirror"}

func (u Upsampling) String() string {
	if u >= 0 && int(u) < len(upsamplingNames) {
		return upsamplingNames[u]
	}
	return fmt.Sprintf("upsampling(%d)", int(u))
}

// ParseUpsampling reads an upsampling's name.
func ParseUpsampling(name string) (Upsampling, error) {
	for i, n := range upsamplingNames {
		if n == name {
			return Upsampling(i), nil
		}
	}
	return 0, fmt.Errorf("unknown upsampling %q (want one of %v)", name, upsamplingNames)
}

// taps is the length, in input samples, of the interpolation filter's window.
const taps = 32

// kernels hold, for each Upsampling, the interpolation weights for the sample halfway
// between two inputs, over a window of taps inputs centred on it.
var kernels = func() (k [5][taps]float32) {
	k[Hann] = windowedSinc(func(x float64) float64 { return 0.5 * (1 + math.Cos(math.Pi*x/(taps/2))) })
	k[Blackman] = windowedSinc(func(x float64) float64 {
		return 0.42 + 0.5*math.Cos(math.Pi*x/(taps/2)) + 0.08*math.Cos(2*math.Pi*x/(taps/2))
	})
	k[Hold][taps/2-1] = 1
	k[Linear][taps/2-1], k[Linear][taps/2] = 0.5, 0.5
	return k // Mirror: all zero
}()

// windowedSinc is a halfband interpolator (speech up to 4 kHz passes, the images above are
// suppressed) with the given window, normalised to unit gain.
func windowedSinc(window func(x float64) float64) (h [taps]float32) {
	var sum float64
	w := make([]float64, taps)
	for k := range taps {
		x := float64(k) - (taps-1)/2.0 // -15.5 ... 15.5: distances from the halfway point
		w[k] = math.Sin(math.Pi*x) / (math.Pi * x) * window(x)
		sum += w[k]
	}
	for k := range taps {
		h[k] = float32(w[k] / sum)
	}
	return h
}

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
		for k, w := range kernels[d.Upsampling] {
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
