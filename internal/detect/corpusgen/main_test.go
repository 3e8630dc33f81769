package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed corpus is exactly what the generator writes.
func TestCommittedCorpusIsGenerated(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir, 60); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"train.jsonl", "dev.jsonl"} {
		got, _ := os.ReadFile(filepath.Join(dir, name))
		want, err := os.ReadFile(filepath.Join("../../../testdata/detect", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/detect/%s differs from the generator's output: run `make corpus model`", name)
		}
	}
}

// No dev call is a copy of a train call: the dev split measures what training did not see.
func TestDevCallsAreNotTrainCalls(t *testing.T) {
	train, _ := os.ReadFile("../../../testdata/detect/train.jsonl")
	dev, _ := os.ReadFile("../../../testdata/detect/dev.jsonl")
	texts := map[string]bool{}
	for _, l := range bytes.Split(train, []byte("\n")) {
		texts[string(textOf(l))] = true
	}
	heldOut := 0
	lines := bytes.Split(dev, []byte("\n"))
	for _, l := range lines {
		if !texts[string(textOf(l))] {
			heldOut++
		}
	}
	t.Logf("%d of %d dev lines are worded unlike any train line", heldOut, len(lines))
	if heldOut*5 < len(lines) {
		t.Errorf("only %d of %d dev lines are worded unlike any train line", heldOut, len(lines))
	}
}

func textOf(l []byte) []byte {
	i := bytes.Index(l, []byte(`"text":`))
	if i < 0 {
		return nil
	}
	j := bytes.Index(l[i:], []byte(`","t":`))
	if j < 0 {
		return l[i:]
	}
	return l[i : i+j]
}
