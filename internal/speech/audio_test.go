package speech

import (
	"math"
	"testing"

	"github.com/zaf/g711"
)

// A 1 kHz tone in mu-law and in A-law comes out as a 1 kHz tone at twice the rate, with no
// seam between frames and nothing at the 7 kHz image.
func TestDecodeUpsamplesTone(t *testing.T) {
	for _, c := range []struct {
		name   string
		pt     byte
		encode func(int16) uint8
	}{{"pcmu", PCMU, g711.EncodeUlawFrame}, {"pcma", PCMA, g711.EncodeAlawFrame}} {
		t.Run(c.name, func(t *testing.T) {
			var d Decoder
			var out []int16
			for f := range 50 { // one second in 20 ms frames
				frame := make([]byte, 160)
				for i := range frame {
					n := f*160 + i
					frame[i] = c.encode(int16(8000 * math.Sin(2*math.Pi*1000*float64(n)/8000)))
				}
				out = append(out, d.Decode(c.pt, frame)...)
			}
			if len(out) != 2*8000 {
				t.Fatalf("got %d samples, want %d", len(out), 2*8000)
			}
			tone, image := power(out, 1000, Rate), power(out, 7000, Rate)
			if tone < 1000*image {
				t.Errorf("1 kHz power %.0f is not well above the 7 kHz image %.0f", tone, image)
			}
			if amp := 2 * math.Sqrt(tone); amp < 7000 || amp > 9000 {
				t.Errorf("tone amplitude %.0f, want about 8000", amp)
			}
		})
	}
}

func TestDecodeIgnoresOtherPayloads(t *testing.T) {
	var d Decoder
	if got := d.Decode(101, []byte{1, 0, 0, 160}); got != nil {
		t.Errorf("telephone-event decoded as speech: %v", got)
	}
}

// power is the mean power of x at frequency f (a single DFT bin), per sample.
func power(x []int16, f, rate float64) float64 {
	var re, im float64
	for n, v := range x {
		a := 2 * math.Pi * f * float64(n) / rate
		re += float64(v) * math.Cos(a)
		im += float64(v) * math.Sin(a)
	}
	n := float64(len(x))
	return (re*re + im*im) / (n * n)
}
