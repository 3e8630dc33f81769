// Command train rebuilds the detector's model from the committed training corpus. The
// result is the same file, byte for byte, every time (see detect.Train).
//
//	go run ./internal/detect/train            # or: make model
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/clearline/clearline/internal/detect"
)

func main() {
	corpus := flag.String("corpus", "testdata/detect/train.jsonl", "labelled training calls (JSON Lines)")
	out := flag.String("out", "internal/detect/model.json", "where to write the model")
	flag.Parse()
	m, err := detect.TrainFile(*corpus)
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
	b, err := m.Marshal()
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "train: wrote %s (%d words weighted)\n", *out, len(m.Ngrams))
}
