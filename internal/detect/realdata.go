package detect

import (
	"crypto/md5"
	"strings"
)

// Real calls, for training and for an honest check. The developers' file of real and
// written calls (../shared/data/detect/dev-real.jsonl, outside the repository; its README
// gives each part's source and licence) is split in two halves by call ID: the analysis
// half, whose failures the project reads while writing rules, and the blind half, measured
// only as figures, an estimate of how the detector does on calls nobody here has read. Of
// the analysis half, the calls whose licence lets them train a shipped model — the FTC's
// public-domain robocalls and the MIT-licensed STAR bank dialogues — are committed as
// testdata/detect/real-train.jsonl (make real-train) and trained on.

// AnalysisHalf says whether a call of the real file is in the half the project reads: the
// first byte of the MD5 of its ID is even.
func AnalysisHalf(call string) bool { return md5.Sum([]byte(call))[0]%2 == 0 }

// Part names the quarter of the real file a call is in, by the first byte of the MD5 of its
// ID: "A" (even: the analysis half, read from the start), "B1" (1 mod 4: read once the
// blind figures had been taken, half-way through the work) and "B2" (3 mod 4: never read,
// only measured).
func Part(call string) string {
	switch md5.Sum([]byte(call))[0] % 4 {
	case 1:
		return "B1"
	case 3:
		return "B2"
	}
	return "A"
}

// Trainable says whether a call type of the real file may train the shipped model: the
// public-domain robocalls (real_robo_*) and the MIT-licensed STAR dialogues (wr_star_*). The
// scam-baiters' transcripts, Switchboard and SGD are for evaluation only.
func Trainable(typ string) bool {
	return strings.HasPrefix(typ, "real_robo_") || strings.HasPrefix(typ, "wr_star_")
}
