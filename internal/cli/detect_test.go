package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectScoresCallsInOrderAndReportsBadLines(t *testing.T) {
	in := strings.Join([]string{
		`{"call": "c2", "speaker": "caller", "text": "hello its the surgery about your appointment", "t": 1}`,
		`{"call": "c1", "speaker": "caller", "text": "this is detective sergeant miller from the metropolitan police", "t": 3.2}`,
		`not json at all`,
		`{"call": "c1", "text": "go to the bank and with draw five thousand pounds in cash"}`,
		`{"text": "no call id"}`,
		`{"call": "c3"}`,
		`{"call": "c1", "speaker": "caller", "text": "dont tell the cashier a courier will collect it", "t": 9}`,
	}, "\n")
	var out, errOut bytes.Buffer
	code := MainIO([]string{"detect"}, strings.NewReader(in), &out, &errOut)
	if code == 0 {
		t.Error("exit status 0 despite bad lines")
	}
	for _, want := range []string{"line 3: not a valid JSON object", `line 5: missing "call"`, `line 6: missing "text"`} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	var results []result
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r result
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	if len(results) != 2 || results[0].Call != "c2" || results[1].Call != "c1" {
		t.Fatalf("results not one per call in order of first appearance: %+v", results)
	}
	if results[0].Verdict.String() != "ok" || results[1].Verdict.String() != "scam" {
		t.Errorf("verdicts %s, %s; want ok, scam", results[0].Verdict, results[1].Verdict)
	}
	first := results[1].Indicators[0]
	if first.Kind.String() != "authority_claim" || first.T != 3.2 || !strings.Contains(first.Evidence, "detective sergeant") {
		t.Errorf("first indicator = %+v", first)
	}
}

func TestDetectEval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eval.jsonl")
	lines := `{"call":"a","text":"this is detective sergeant miller from the metropolitan police","label":"scam","type":"police_courier"}
{"call":"a","text":"go to the bank and with draw five thousand pounds in cash dont tell the cashier"}
{"call":"b","text":"hello its the surgery about your appointment on monday","label":"ok","type":"gp"}
`
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := MainIO([]string{"detect", "--eval", path}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"precision 1.000  recall 1.000", "false-positive rate 0.000", "warning (risk 0.70)", "time to warning", "police_courier", "gp"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("eval output lacks %q:\n%s", want, out.String())
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(`{"call":"x","text":"hi","label":"maybe"}`+"\n"), 0o600)
	errOut.Reset()
	if code := MainIO([]string{"detect", "--eval", bad}, strings.NewReader(""), &out, &errOut); code == 0 || !strings.Contains(errOut.String(), `"label" must be "scam" or "ok"`) {
		t.Errorf("bad label: exit %d, %s", code, errOut.String())
	}
}

// --wer garbles the words as a recogniser would before scoring, says how much it garbled,
// and needs a pronouncing dictionary; a bad rate or threshold is refused.
func TestDetectEvalGarbled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "eval.jsonl")
	dict := filepath.Join(dir, "dict")
	os.WriteFile(path, []byte(`{"call":"a","text":"this is detective sergeant miller from the metropolitan police","label":"scam","type":"police_courier"}
{"call":"a","text":"go to the bank and withdraw five thousand pounds in cash dont tell the cashier"}
`), 0o600)
	os.WriteFile(dict, []byte("withdraw W IH0 DH D R AO1\nwith W IH1 DH\ndraw D R AO1\ncash K AE1 SH\ncatch K AE1 CH\n"), 0o600)
	var out, errOut bytes.Buffer
	if code := MainIO([]string{"detect", "--eval", path, "--wer", "0.3", "--dict", dict}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "word error rate 0.300 asked") || !strings.Contains(out.String(), "calls: 1") {
		t.Errorf("garbled eval output:\n%s", out.String())
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--wer", "1.5"}, "--wer must be between 0 and 1"},
		{[]string{"--warn-at", "0"}, "--warn-at"},
		{[]string{"--wer", "0.3", "--dict", filepath.Join(dir, "missing")}, "needs a pronouncing dictionary"},
	} {
		errOut.Reset()
		if code := MainIO(append([]string{"detect", "--eval", path}, c.args...), strings.NewReader(""), &out, &errOut); code == 0 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, %q", c.args, code, errOut.String())
		}
	}
}
