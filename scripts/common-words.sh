#!/usr/bin/env bash
# Writes internal/detect/soundalikegen/common.txt: the words of Debian's general English
# language model (pocketsphinx-en-us, en-us.lm.bin; Carnegie Mellon University, BSD-2) whose
# unigram probability is at least 10^-6 — the ~20,000 words common enough that a recogniser
# writing one most likely heard it. The sound-alike table never reads such a word as another.
# Needs Debian's sphinxbase-utils (sphinx_lm_convert). Its ARPA writer stops with an
# assertion after the unigrams of this model; the unigrams, all this needs, are complete by
# then, and the count is checked against the model's header.
set -euo pipefail
cd "$(dirname "$0")/.."
lm=/usr/share/pocketsphinx/model/en-us/en-us.lm.bin
out=internal/detect/soundalikegen/common.txt
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sphinx_lm_convert -i "$lm" -o "$tmp" -ofmt arpa >/dev/null 2>&1 || true
want=$(awk '/^ngram 1=/{split($2,a,"="); print a[2]; exit}' "$tmp")
have=$(awk '/\\1-grams:/{f=1;next} /^\\/{f=0} f && NF>=2' "$tmp" | wc -l)
if [ -z "$want" ] || [ "$have" -lt $((want - 200)) ]; then
  echo "common-words.sh: read $have of ${want:-?} unigrams from $lm" >&2; exit 1
fi
{
  echo "# Words of pocketsphinx-en-us's general language model (en-us.lm.bin, CMU, BSD-2) with a"
  echo "# unigram probability of at least 10^-6, one per line, sorted. Made by scripts/common-words.sh."
  awk '/\\1-grams:/{f=1;next} /^\\/{f=0} f && NF>=2 && $1 >= -6.0 && $2 ~ /^[a-z]+$/ {print $2}' "$tmp" | LC_ALL=C sort -u
} > "$out"
echo "common-words.sh: wrote $out ($(($(wc -l < "$out") - 2)) words)" >&2
