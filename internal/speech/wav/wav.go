// Package wav reads and writes the WAV files a telephone recording comes in: 8 kHz µ-law or
// A-law as a line carries it, or 16-bit linear PCM at any rate (a voicemail, a recorder).
// Read checks the file and says what is wrong with one it cannot take; WriteG711 writes
// µ-law or A-law audio as a standard WAV file.
package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Encoding is how a file's samples are stored.
type Encoding int

// The encodings Read accepts.
const (
	PCM16 Encoding = iota // 16-bit signed little-endian linear PCM
	ULaw                  // G.711 µ-law, one byte a sample
	ALaw                  // G.711 A-law, one byte a sample
)

func (e Encoding) String() string {
	switch e {
	case PCM16:
		return "16-bit PCM"
	case ULaw:
		return "µ-law"
	case ALaw:
		return "A-law"
	}
	return fmt.Sprintf("encoding(%d)", int(e))
}

// Audio is one mono recording.
type Audio struct {
	Encoding Encoding
	Rate     int     // samples per second
	PCM      []int16 // the samples, for PCM16 (several channels are mixed down)
	G711     []byte  // the bytes as the line carries them, for ULaw and ALaw
}

// Duration is the recording's length in seconds.
func (a *Audio) Duration() float64 {
	if a.Encoding == PCM16 {
		return float64(len(a.PCM)) / float64(a.Rate)
	}
	return float64(len(a.G711)) / float64(a.Rate)
}

// WAVE format tags.
const (
	tagPCM        = 1
	tagALaw       = 6
	tagULaw       = 7
	tagExtensible = 0xfffe
)

// ErrNotWAV means the input does not start like a WAV file.
var ErrNotWAV = errors.New("not a WAV file (no RIFF/WAVE header)")

// Read parses a WAV file. G.711 must be 8 kHz mono, as a telephone line carries it; PCM
// may have any rate and channel count. A data chunk whose size runs past the end of the
// file (as programs writing to a pipe leave it) is read to the end.
func Read(r io.Reader) (*Audio, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, ErrNotWAV
	}
	var (
		tag, channels, bits uint16
		rate                uint32
		haveFmt             bool
	)
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:off+8]))
		body := b[off+8:]
		if size < 0 || size > len(body) {
			size = len(body)
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, fmt.Errorf("fmt chunk of %d bytes is too short", size)
			}
			tag = binary.LittleEndian.Uint16(body[0:])
			channels = binary.LittleEndian.Uint16(body[2:])
			rate = binary.LittleEndian.Uint32(body[4:])
			bits = binary.LittleEndian.Uint16(body[14:])
			if tag == tagExtensible && size >= 26 {
				tag = binary.LittleEndian.Uint16(body[24:]) // the sub-format GUID's first two bytes
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, errors.New("data chunk before the fmt chunk")
			}
			return decode(tag, channels, bits, int(rate), body)
		}
		off += 8 + size + size&1 // chunks are padded to an even length
	}
	if !haveFmt {
		return nil, errors.New("no fmt chunk")
	}
	return nil, errors.New("no data chunk: empty")
}

func decode(tag, channels, bits uint16, rate int, data []byte) (*Audio, error) {
	if channels == 0 || rate <= 0 {
		return nil, fmt.Errorf("%d channels at %d Hz", channels, rate)
	}
	switch {
	case tag == tagPCM && bits == 16:
		frames := len(data) / (2 * int(channels))
		if frames == 0 {
			return nil, errors.New("empty: no samples")
		}
		pcm := make([]int16, frames)
		for i := range pcm {
			var sum int
			for c := range int(channels) {
				sum += int(int16(binary.LittleEndian.Uint16(data[2*(i*int(channels)+c):])))
			}
			pcm[i] = int16(sum / int(channels))
		}
		return &Audio{Encoding: PCM16, Rate: rate, PCM: pcm}, nil
	case tag == tagULaw || tag == tagALaw:
		enc := ULaw
		if tag == tagALaw {
			enc = ALaw
		}
		if channels != 1 || rate != 8000 || bits != 8 {
			return nil, fmt.Errorf("unsupported %s: %d channels of %d bits at %d Hz; a telephone line carries mono 8-bit at 8000 Hz", enc, channels, bits, rate)
		}
		if len(data) == 0 {
			return nil, errors.New("empty: no samples")
		}
		return &Audio{Encoding: enc, Rate: rate, G711: bytes.Clone(data)}, nil
	case tag == tagPCM:
		return nil, fmt.Errorf("unsupported codec: %d-bit PCM (want 16-bit PCM, µ-law or A-law)", bits)
	}
	return nil, fmt.Errorf("unsupported codec: WAVE format tag %#x%s (want 16-bit PCM, µ-law or A-law)", tag, tagName(tag))
}

func tagName(tag uint16) string {
	switch tag {
	case 2:
		return " (MS ADPCM)"
	case 3:
		return " (IEEE float)"
	case 0x11:
		return " (IMA ADPCM)"
	case 0x31:
		return " (GSM 6.10)"
	case 0x55:
		return " (MP3)"
	}
	return ""
}

// WritePCM writes mono 16-bit PCM at rate as a WAV file.
func WritePCM(w io.Writer, rate int, pcm []int16) error {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*len(pcm)))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(tagPCM))
	le(uint16(1))
	le(uint32(rate))
	le(uint32(2 * rate))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(2 * len(pcm)))
	le(pcm)
	_, err := w.Write(b.Bytes())
	return err
}

// WriteG711 writes 8 kHz mono G.711 audio (enc ULaw or ALaw) as a WAV file.
func WriteG711(w io.Writer, enc Encoding, g711 []byte) error {
	tag := uint16(tagULaw)
	switch enc {
	case ULaw:
	case ALaw:
		tag = tagALaw
	default:
		return fmt.Errorf("WriteG711: %s is not G.711", enc)
	}
	var h bytes.Buffer
	le := func(v any) { _ = binary.Write(&h, binary.LittleEndian, v) }
	h.WriteString("RIFF")
	le(uint32(4 + 8 + 18 + 8 + 4 + 8 + len(g711) + len(g711)&1))
	h.WriteString("WAVEfmt ")
	le(uint32(18))
	le(tag)
	le(uint16(1))    // mono
	le(uint32(8000)) // samples per second
	le(uint32(8000)) // bytes per second
	le(uint16(1))    // block align
	le(uint16(8))    // bits per sample
	le(uint16(0))    // no extra format bytes
	h.WriteString("fact")
	le(uint32(4))
	le(uint32(len(g711)))
	h.WriteString("data")
	le(uint32(len(g711)))
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	if _, err := w.Write(g711); err != nil {
		return err
	}
	if len(g711)&1 == 1 {
		_, err := w.Write([]byte{0})
		return err
	}
	return nil
}
