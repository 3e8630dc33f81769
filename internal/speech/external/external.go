// Package external lets the guard use a speech recogniser it does not embed: a server a
// deployment runs (reached over TCP), or a program started once per stream. Both speak
// protocol clearline-asr/1, one stream of one call direction per connection:
//
//  1. The guard sends one line of JSON, the header:
//     {"protocol":"clearline-asr/1","call":"<call id>","rate":16000,"format":"s16le"}
//  2. Then the audio: 16-bit little-endian mono samples at the header's rate, as the call
//     goes. When the call ends the guard closes its side (TCP half-close, or the program's
//     standard input).
//  3. The recogniser sends one line of JSON per utterance as each ends, offsets in seconds
//     from the start of the stream: {"text":"we need you to withdraw cash","start":3.1,"end":5.4}
//     and closes its side once it has sent the last. A result may carry the recogniser's
//     next-best readings, best first: "alternatives":["we need you to withdraw cash", ...];
//     the detector reads them too. A line {"error":"..."} reports a failure; the guard logs
//     it and the call goes on unanalysed.
//
// A recogniser that stops reading for longer than the write timeout is given up on for that
// call; the call itself is never held up. `clearline asr` is a reference recogniser
// speaking this protocol, backed by the embedded pocketsphinx.
package external

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/clearline/clearline/internal/speech"
)

// Protocol is the version spoken.
const Protocol = "clearline-asr/1"

// Header opens a stream.
type Header struct {
	Protocol string `json:"protocol"`
	Call     string `json:"call"`
	Rate     int    `json:"rate"`
	Format   string `json:"format"`
}

// Result is one line from the recogniser.
type Result struct {
	Text  string  `json:"text,omitempty"`
	Start float64 `json:"start,omitempty"`
	End   float64 `json:"end,omitempty"`
	// Alternatives are next-best readings of the same speech (optional).
	Alternatives []string `json:"alternatives,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// Options choose the recogniser: Address (host:port) or Command (program and arguments).
type Options struct {
	Address string
	Command []string
	// WriteTimeout is how long a write may wait on a recogniser that is not reading
	// (default 2 s).
	WriteTimeout time.Duration
	// FinishTimeout is how long, after the call, the recogniser has to send its last
	// results (default 10 s: it may still be working through audio it was sent).
	FinishTimeout time.Duration
}

// Recognizer opens a connection or starts the program for each stream.
type Recognizer struct{ o Options }

// New checks the options; nothing is contacted until a stream starts.
func New(o Options) (*Recognizer, error) {
	if (o.Address == "") == (len(o.Command) == 0) {
		return nil, errors.New("external recogniser: set exactly one of address and command")
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 2 * time.Second
	}
	if o.FinishTimeout <= 0 {
		o.FinishTimeout = 10 * time.Second
	}
	return &Recognizer{o: o}, nil
}

// Name says where the recogniser is.
func (r *Recognizer) Name() string {
	if r.o.Address != "" {
		return "external/" + r.o.Address
	}
	return "external/" + r.o.Command[0]
}

// Close does nothing: streams own their connections.
func (r *Recognizer) Close() error { return nil }

// deadliner is what both a TCP connection and a pipe to a program offer.
type deadliner interface {
	io.Writer
	SetWriteDeadline(time.Time) error
}

type stream struct {
	w       deadliner
	closeW  func() error
	abort   func()
	results chan Result
	done    chan struct{} // closed when the recogniser's side ends
	timeout time.Duration
	finish  time.Duration
	buf     []byte
	failed  error
	once    sync.Once
}

// Start connects or starts the program and sends the header.
func (r *Recognizer) Start(callID string) (speech.Stream, error) {
	s := &stream{results: make(chan Result, 64), done: make(chan struct{}), timeout: r.o.WriteTimeout, finish: r.o.FinishTimeout}
	var rd io.Reader
	if r.o.Address != "" {
		c, err := net.DialTimeout("tcp", r.o.Address, r.o.WriteTimeout)
		if err != nil {
			return nil, fmt.Errorf("external recogniser at %s: %w", r.o.Address, err)
		}
		tc := c.(*net.TCPConn)
		s.w, rd, s.closeW, s.abort = tc, tc, tc.CloseWrite, func() { tc.Close() }
	} else {
		cmd := exec.Command(r.o.Command[0], r.o.Command[1:]...)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("external recogniser %s: %w", r.o.Command[0], err)
		}
		go cmd.Wait() //nolint:errcheck // the exit shows as the end of its output
		f, ok := in.(*os.File)
		if !ok {
			cmd.Process.Kill()
			return nil, errors.New("external recogniser: standard input is not a pipe")
		}
		s.w, rd, s.closeW, s.abort = f, out, f.Close, func() { cmd.Process.Kill(); f.Close() }
	}
	go s.read(rd)
	h, _ := json.Marshal(Header{Protocol: Protocol, Call: callID, Rate: speech.Rate, Format: "s16le"})
	if err := s.write(append(h, '\n')); err != nil {
		s.abort()
		return nil, err
	}
	return s, nil
}

func (s *stream) read(r io.Reader) {
	defer close(s.done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var res Result
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			res = Result{Error: fmt.Sprintf("not a clearline-asr/1 result line: %q", sc.Text())}
		}
		select {
		case s.results <- res:
		default: // nobody is collecting fast enough: the analysis, not the call, loses
		}
	}
}

func (s *stream) write(b []byte) error {
	_ = s.w.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.w.Write(b); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("external recogniser stopped reading for %v", s.timeout)
		}
		return fmt.Errorf("external recogniser: %w", err)
	}
	return nil
}

func (s *stream) Write(samples []int16) ([]speech.Utterance, error) {
	if s.failed != nil {
		return nil, s.failed
	}
	s.buf = s.buf[:0]
	for _, v := range samples {
		s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(v))
	}
	if err := s.write(s.buf); err != nil {
		s.failed = err
		s.abort()
		return nil, err
	}
	return s.collect()
}

// collect takes the results that have arrived without waiting.
func (s *stream) collect() ([]speech.Utterance, error) {
	var out []speech.Utterance
	for {
		select {
		case r := <-s.results:
			if r.Error != "" {
				return out, errors.New("external recogniser: " + r.Error)
			}
			out = append(out, utterance(r))
		default:
			return out, nil
		}
	}
}

func utterance(r Result) speech.Utterance {
	return speech.Utterance{Text: r.Text, Start: seconds(r.Start), End: seconds(r.End), Alternatives: r.Alternatives}
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// Close ends the audio and waits briefly for the last utterances.
func (s *stream) Close() ([]speech.Utterance, error) {
	var out []speech.Utterance
	var err error
	s.once.Do(func() {
		defer s.abort()
		if s.failed != nil {
			return
		}
		_ = s.closeW()
		t := time.NewTimer(s.finish)
		defer t.Stop()
		for {
			select {
			case r := <-s.results:
				if r.Error != "" {
					err = errors.New("external recogniser: " + r.Error)
					continue
				}
				out = append(out, utterance(r))
			case <-s.done:
				more, e := s.collect()
				out = append(out, more...)
				err = errors.Join(err, e)
				return
			case <-t.C:
				err = errors.New("external recogniser did not finish in time")
				return
			}
		}
	})
	return out, err
}

// Serve speaks the recogniser's side of the protocol on one connection, with rec doing the
// recognition. It returns when the guard closes its side and the last result is sent.
func Serve(rw io.ReadWriter, rec speech.Recognizer) error {
	br := bufio.NewReader(rw)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading the header: %w", err)
	}
	enc := json.NewEncoder(rw)
	var h Header
	if err := json.Unmarshal(line, &h); err != nil || h.Protocol != Protocol || h.Rate != speech.Rate || h.Format != "s16le" {
		msg := fmt.Sprintf("want a header {\"protocol\":%q,\"rate\":%d,\"format\":\"s16le\"}, got %q", Protocol, speech.Rate, line)
		_ = enc.Encode(Result{Error: msg})
		return errors.New(msg)
	}
	st, err := rec.Start(h.Call)
	if err != nil {
		_ = enc.Encode(Result{Error: err.Error()})
		return err
	}
	send := func(us []speech.Utterance) error {
		for _, u := range us {
			if err := enc.Encode(Result{Text: u.Text, Start: u.Start.Seconds(), End: u.End.Seconds(), Alternatives: u.Alternatives}); err != nil {
				return err
			}
		}
		return nil
	}
	buf := make([]byte, 640) // 20 ms at 16 kHz
	samples := make([]int16, 0, 320)
	for {
		n, rerr := io.ReadFull(br, buf)
		samples = samples[:0]
		for i := 0; i+1 < n; i += 2 {
			samples = append(samples, int16(binary.LittleEndian.Uint16(buf[i:])))
		}
		us, err := st.Write(samples)
		if err == nil {
			err = send(us)
		}
		if err != nil {
			st.Close()
			_ = enc.Encode(Result{Error: err.Error()})
			return err
		}
		if rerr != nil { // the guard closed its side
			us, err := st.Close()
			if err != nil {
				_ = enc.Encode(Result{Error: err.Error()})
				return err
			}
			return send(us)
		}
	}
}
