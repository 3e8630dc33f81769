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

// Each upsampling leaves in the band above 4 kHz what it says: a 1 kHz tone's image at
// 7 kHz lies this far below the tone.
func TestUpsamplingsImage(t *testing.T) {
	for _, c := range []struct {
		u        Upsampling
		min, max float64 // dB below the tone
	}{
		{Hann, 30, 200}, {Blackman, 30, 200}, {Linear, 25, 32}, {Hold, 11, 17}, {Mirror, -1, 1},
	} {
		d := Decoder{Upsampling: c.u}
		var out []int16
		for f := range 50 {
			frame := make([]byte, 160)
			for i := range frame {
				frame[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(2*math.Pi*1000*float64(f*160+i)/8000)))
			}
			out = append(out, d.Decode(PCMU, frame)...)
		}
		below := 10 * math.Log10(power(out, 1000, Rate)/power(out, 7000, Rate))
		if below < c.min || below > c.max {
			t.Errorf("%v: the 7 kHz image is %.1f dB below the tone, want %.0f-%.0f", c.u, below, c.min, c.max)
		}
		if _, err := ParseUpsampling(c.u.String()); err != nil {
			t.Error(err)
		}
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
