#!/usr/bin/env bash
# Adapts pocketsphinx's en-us acoustic model to the telephone line with MLLR (sphinxtrain),
# from voices that are not on the voice bench (internal/speech/sphinx/adaptgen), and writes
# the transform to $OUT/mllr_matrix and to internal/speech/sphinx/model/telephone.mllr, which
# every listening decoder is given (sphinx.Options.Unadapted leaves it out); then measures it
# on Debian's real recorded voices beside the unadapted model. `make adapt` runs it after
# installing sphinxtrain, sphinxbase-utils and festvox-kdlpc16k. Deterministic: the same
# matrix each run (git status shows no change to the shipped one).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-artifacts/adapt}
MODEL=${MODEL:-/usr/share/pocketsphinx/model/en-us}
ST=${SPHINXTRAIN:-/usr/lib/sphinxtrain}
rm -rf "$OUT" && mkdir -p "$OUT/wav" "$OUT/mfc" "$OUT/hmm" "$OUT/accum"
go build -o "$OUT/adaptgen" ./internal/speech/sphinx/adaptgen
echo "adapt: speaking the adaptation set through the telephone path"
"$OUT/adaptgen" -out "$OUT/wav"
sphinx_fe -argfile "$MODEL/en-us/feat.params" -samprate 16000 -c "$OUT/wav/adapt.fileids" \
	-di "$OUT/wav" -do "$OUT/mfc" -ei raw -eo mfc -raw yes -input_endian little -dither no >"$OUT/fe.log" 2>&1
# sphinxtrain reads the model definition as text and wants mixture weights, not the sendump.
for f in means variances transition_matrices noisedict feat.params; do ln -s "$MODEL/en-us/$f" "$OUT/hmm/$f"; done
"$OUT/adaptgen" -mdef "$MODEL/en-us/mdef" "$OUT/hmm/mdef.txt" 2>/dev/null
"$OUT/adaptgen" -mixw "$MODEL/en-us/sendump" "$OUT/hmm/mixture_weights"
echo "adapt: collecting statistics (bw)"
"$ST/bw" -hmmdir "$OUT/hmm" -moddeffn "$OUT/hmm/mdef.txt" -ts2cbfn .ptm. -feat 1s_c_d_dd -svspec 0-12/13-25/26-38 \
	-cmn current -agc none -dictfn "$MODEL/cmudict-en-us.dict" -fdictfn "$OUT/hmm/noisedict" \
	-ctlfn "$OUT/wav/adapt.fileids" -lsnfn "$OUT/wav/adapt.transcription" -cepdir "$OUT/mfc" -cepext mfc \
	-accumdir "$OUT/accum" >"$OUT/bw.log" 2>&1
echo "adapt: $(grep -c ' ignored' "$OUT/bw.log" || true) of $(wc -l <"$OUT/wav/adapt.fileids") utterances could not be aligned and were left out"
"$ST/mllr_solve" -meanfn "$MODEL/en-us/means" -varfn "$MODEL/en-us/variances" -outmllrfn "$OUT/mllr_matrix" \
	-accumdir "$OUT/accum" >"$OUT/mllr.log" 2>&1
cp "$OUT/mllr_matrix" internal/speech/sphinx/model/telephone.mllr
echo "adapt: wrote $OUT/mllr_matrix and internal/speech/sphinx/model/telephone.mllr; measuring it on Debian's real voices"
mkdir -p "$OUT/no-scripts" # the real voices only, none of the bench's calls
go run ./internal/speech/voices/benchgen -voices flite-kal -scripts "$OUT/no-scripts" -out "$OUT/no-bench" -real "$OUT/real-voices" >/dev/null
go run ./internal/speech/sphinx/listeneval -bench "$OUT/real-voices" -real "" -jobs 2 \
	-setting general-unadapted=general,unadapted -setting general=general \
	-setting domain-unadapted=domain,unadapted -setting domain=domain
