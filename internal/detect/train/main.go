// Command train rebuilds the detector's model from the committed training corpora. The
// result is the same file, byte for byte, every time (see detect.Train).
//
//	go run ./internal/detect/train            # or: make model
//
// With -extract-real it instead writes the trainable calls of the analysis half of the
// developers' real-call file (see detect.AnalysisHalf and detect.Trainable) to -out-real:
//
//	go run ./internal/detect/train -extract-real ../shared/data/detect/dev-real.jsonl   # make real-train
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/clearline/clearline/internal/detect"
)

func main() {
	corpus := flag.String("corpus", "testdata/detect/train.jsonl,testdata/detect/real-train.jsonl", "labelled training calls (JSON Lines), comma-separated")
	out := flag.String("out", "internal/detect/model.json", "where to write the model")
	extract := flag.String("extract-real", "", "read this real-call file and write its trainable analysis-half calls to -out-real")
	outReal := flag.String("out-real", "testdata/detect/real-train.jsonl", "where -extract-real writes")
	flag.Parse()
	if *extract != "" {
		n, err := extractReal(*extract, *outReal)
		if err != nil {
			fmt.Fprintln(os.Stderr, "train:", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "train: wrote %s (%d calls)\n", *outReal, n)
		return
	}
	m, err := detect.TrainFiles(strings.Split(*corpus, ",")...)
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

// extractReal copies the lines of the trainable calls in the analysis half, unchanged and in
// order, and returns how many calls it kept.
func extractReal(in, out string) (int, error) {
	f, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var b strings.Builder
	kept := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		var l detect.Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return 0, fmt.Errorf("%s: line %d: %v", in, n, err)
		}
		if detect.Trainable(l.Type) && detect.AnalysisHalf(l.Call) {
			kept[l.Call] = true
			b.Write(sc.Bytes())
			b.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return len(kept), os.WriteFile(out, []byte(b.String()), 0o644)
}
