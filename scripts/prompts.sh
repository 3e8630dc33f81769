#!/usr/bin/env bash
# Regenerates the guard's spoken prompts (8 kHz mu-law, raw) with espeak-ng and sox, both from
# Debian (apt-get install espeak-ng sox). The files are committed, so the guard needs nothing
# installed at run time; run this only to change a prompt's words.
set -euo pipefail
cd "$(dirname "$0")/.."
out=internal/media/prompts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
say() { # name text
	espeak-ng -v en-gb -s 145 -w "$tmp/$1.wav" "$2"
	sox -D "$tmp/$1.wav" -r 8000 -c 1 -e u-law -t raw "$out/$1.ul" # -D: no random dither
	echo "wrote $out/$1.ul ($(( $(stat -c %s "$out/$1.ul") / 8000 )) s)"
}
say blocked "This call has been blocked by the line's call guard. Goodbye."
say warn_police "Call guard warning. This caller says they are the police. The police never ask for money or your bank card."
say warn "Call guard warning. This caller may not be who they say. Never give money or bank cards to a caller."
say screen_ask "This line screens its calls. Please say your name after the tone."
say screen_intro "You have a call from"
say screen_choice "Press 1 to take the call, or 2 to refuse it."
say callback_police "This is a new call to the police on 1 0 1. You are not connected to the previous caller."
say callback_bank "This is a new call to your bank, on the number from your card. You are not connected to the previous caller."
say callback_trusted "This is a new call to one of your trusted numbers. You are not connected to the previous caller."
say dictated_number "Call guard. A caller whose call had signs of a scam gave you this number, so this call will not be made. Ring a number you trust instead."
say test_call "This is a test call from your call guard. This phone rings through it. Goodbye."
say scam_warning "Call guard warning. This call has signs of a scam. The police and your bank never ask you to withdraw cash or hand over your card. Hang up now."

# The speech recogniser's warm-up: a few seconds of telephone-band speech each pocketsphinx
# decoder hears once when it is loaded, so that its cepstral mean is that of a phone line
# before the first caller's first words (which are usually who they claim to be).
espeak-ng -v en-gb -s 145 -w "$tmp/warmup.wav" "Hello, thank you for calling. Please hold the line while we connect you."
sox -D "$tmp/warmup.wav" -r 8000 -c 1 -e u-law -t raw internal/speech/sphinx/model/warmup.ul
echo "wrote internal/speech/sphinx/model/warmup.ul"
