package wav

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestG711RoundTrip(t *testing.T) {
	for _, enc := range []Encoding{ULaw, ALaw} {
		in := []byte{0xff, 0x7f, 0x00, 0x80, 0x12}
		var b bytes.Buffer
		if err := WriteG711(&b, enc, in); err != nil {
			t.Fatal(err)
		}
		a, err := Read(&b)
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		if a.Encoding != enc || a.Rate != 8000 || !bytes.Equal(a.G711, in) {
			t.Errorf("%s: read back %+v", enc, a)
		}
	}
}

func TestPCMRoundTrip(t *testing.T) {
	in := []int16{0, 1, -1, 32767, -32768}
	var b bytes.Buffer
	if err := WritePCM(&b, 16000, in); err != nil {
		t.Fatal(err)
	}
	a, err := Read(&b)
	if err != nil || a.Encoding != PCM16 || a.Rate != 16000 || len(a.PCM) != len(in) || a.PCM[3] != 32767 || a.PCM[4] != -32768 {
		t.Fatalf("read back %+v, %v", a, err)
	}
}

// pcmWAV builds a PCM file by hand, with an extra chunk before the data as some programs write.
func pcmWAV(tag, channels, bits uint16, rate uint32, data []byte, dataSize uint32) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(0xffffffff))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(tag)
	le(channels)
	le(rate)
	le(rate * uint32(channels) * uint32(bits) / 8)
	le(channels * bits / 8)
	le(bits)
	b.WriteString("LIST")
	le(uint32(3))
	b.WriteString("abc\x00") // odd size, padded
	b.WriteString("data")
	le(dataSize)
	b.Write(data)
	return b.Bytes()
}

// 16-bit PCM at any rate: stereo is mixed down, and a data size past the end (a file
// written to a pipe) is read to the end.
func TestReadsPCM(t *testing.T) {
	data := []byte{0x10, 0x00, 0x30, 0x00, 0xfe, 0xff, 0x00, 0x00}
	a, err := Read(bytes.NewReader(pcmWAV(1, 2, 16, 22050, data, 0x7fffffff)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Encoding != PCM16 || a.Rate != 22050 || len(a.PCM) != 2 || a.PCM[0] != 0x20 || a.PCM[1] != -1 {
		t.Errorf("got %+v", a)
	}
}

func TestBadFilesSayWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"text", []byte("hello, this is not audio"), "not a WAV file"},
		{"empty file", nil, "not a WAV file"},
		{"float", pcmWAV(3, 1, 32, 16000, make([]byte, 8), 8), "unsupported codec: WAVE format tag 0x3 (IEEE float)"},
		{"gsm", pcmWAV(0x31, 1, 0, 8000, make([]byte, 8), 8), "GSM 6.10"},
		{"8-bit pcm", pcmWAV(1, 1, 8, 8000, make([]byte, 8), 8), "8-bit PCM"},
		{"ulaw at 16k", pcmWAV(7, 1, 8, 16000, make([]byte, 8), 8), "unsupported µ-law"},
		{"no samples", pcmWAV(1, 1, 16, 16000, nil, 0), "empty"},
		{"no data", []byte("RIFF\x04\x00\x00\x00WAVE"), "no fmt chunk"},
	} {
		_, err := Read(bytes.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(pcmWAV(1, 2, 16, 22050, []byte{1, 2, 3, 4}, 4))
	var b bytes.Buffer
	WriteG711(&b, ULaw, []byte{1, 2, 3})
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := Read(bytes.NewReader(in))
		if err == nil && a.Duration() <= 0 {
			t.Errorf("accepted a file with no audio: %+v", a)
		}
	})
}
