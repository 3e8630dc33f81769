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

# Asking the caller who they are (internal/guard/ask.go) comes before the phones ring, so its
# prompts are spoken a little faster (the questions to the caller faster still) and without
# the synthesiser's leading and trailing silence. The questions to the caller...
say() { # name text [words a minute]
	espeak-ng -v en-gb -s "${3:-160}" -w "$tmp/$1.wav" "$2"
	sox -D "$tmp/$1.wav" -r 8000 -c 1 -e u-law -t raw "$out/$1.ul" \
		silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse pad 0 0.1
	echo "wrote $out/$1.ul ($(( $(stat -c %s "$out/$1.ul") / 80 )) cs)"
}
say ask_who "Call guard. Which organisation are you calling from?" 175
say ask_id "Your I D number, digit by digit, or key it in." 175
say ask_hold "Thank you. Please hold." 175
# The phones ring while the caller gives their ID number: a resident who answers first hears
say ask_wait "Call guard. Please hold while I ask the caller for their I D number."
# ...and what the resident hears: who the caller says they are, their own words, the ID
# number they gave, the advice for such callers and the keys to press.
say claim_police "Call guard. The caller says they are the police. They said:"
say claim_bank "Call guard. The caller says they are from a bank. They said:"
say claim_government "Call guard. The caller says they are from a government office or a public service. They said:"
say claim_company "Call guard. The caller says they are from a company. They said:"
say claim_family "Call guard. The caller says they are family. They said:"
say claim_unknown "Call guard. The caller did not name an organisation I know. They said:"
say claim_silent "Call guard. The caller would not answer when I asked who they are."
say claim_id "They gave the I D number"
say claim_no_id "They gave no I D number."
for d in 0:zero 1:one 2:two 3:three 4:four 5:five 6:six 7:seven 8:eight 9:nine; do say "digit_${d%%:*}" "${d#*:}"; done
say advice_police "The police never ask you for money, your card or your PIN."
say advice_bank "Your bank never asks you to move your money, or for your card or your PIN."
say advice_government "The tax office and the government never ask for payment over the phone."
say advice_company "Never let a caller onto your computer, or give them your bank details."
say advice_family "If you are not sure it is them, hang up, and ring them on the number you know."
say choice_police "Press 1 to talk to them. Press 2, and I will ring the police on 1 0 1 for you now. Press 3 to refuse the call."
say choice_bank "Press 1 to talk to them. Press 2, and I will ring your bank for you now. Press 3 to refuse the call."
say choice_other "Press 1 to talk to them, or 3 to refuse the call."

# The speech recogniser's warm-up: a few seconds of telephone-band speech each pocketsphinx
# decoder hears once when it is loaded, so that its cepstral mean is that of a phone line
# before the first caller's first words (which are usually who they claim to be).
espeak-ng -v en-gb -s 145 -w "$tmp/warmup.wav" "Hello, thank you for calling. Please hold the line while we connect you."
sox -D "$tmp/warmup.wav" -r 8000 -c 1 -e u-law -t raw internal/speech/sphinx/model/warmup.ul
echo "wrote internal/speech/sphinx/model/warmup.ul"

# Carer Check (internal/guard/carer.go): what the guardian the guard rings hears — who is
# calling and on which line (the household's number, read with the digits above), the keys,
# and what happens after they press one.
say carer_intro "This is the call guard. Someone is calling the person you look after. They said their name is:"
say carer_line "They are calling the number"
say carer_choice "Press 1 to put them through. Press 2 to refuse the call. Press 3 to join the call with them, then hash to leave it."
say carer_through "Thank you. Their phone is ringing now. Goodbye."
say carer_refused "The call has been refused. Goodbye."
say carer_joining "Ringing them now. You will hear them both when they answer. Press hash to leave the call."
# Handset codes (internal/guard/handset.go, config codes): what the resident hears after
# dialling the code that blocks the last caller or reports the last call. The number's last
# three digits (digit_0..digit_9 above) go between a prompt and its _end; trimmed like the
# asking prompts, so the pieces join as one sentence, and spoken at the resident's pace.
say() { # name text
	espeak-ng -v en-gb -s 145 -w "$tmp/$1.wav" "$2"
	sox -D "$tmp/$1.wav" -r 8000 -c 1 -e u-law -t raw "$out/$1.ul" \
		silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse pad 0 0.1
	echo "wrote $out/$1.ul ($(( $(stat -c %s "$out/$1.ul") / 80 )) cs)"
}
say handset_blocked "Call guard. The number ending"
say handset_blocked_end "is now blocked. It will not ring your phone again. Goodbye."
say handset_no_call_block "Call guard. There is no call to block. Nothing has changed."
say handset_withheld "Call guard. The last caller withheld their number, so it cannot be blocked by number. Nothing has changed."
say handset_failed "Call guard. Sorry, the number could not be blocked just now. Please ask your family to block it on the dashboard."
say handset_reported "Call guard. Thank you. The call from the number ending"
say handset_reported_end "has been reported as a scam, to help warn others nearby. Goodbye."
say handset_reported_withheld "Call guard. Thank you. The last call has been reported as a scam, to help warn others nearby. Goodbye."
say handset_no_call_report "Call guard. There is no call to report. Nothing has been sent."
say handset_report_off "Call guard. This line does not send reports, so nothing has been sent. Please tell your family about the call."
# The family in the loop, live (internal/guard/remote.go): what the resident hears when one of
# their guardians ends the call from the dashboard, after the caller has been cut off. Spoken
# at the ordinary pace, without the synthesiser's leading and trailing silence (the say above,
# which speaks at 145 words a minute whatever its third argument).
say family_ended "Your family has ended this call. If anyone asks you for money, do not give it." 145
# Many guards of one service (internal/guard/memory.go): the report code on a guard that did
# not take the last call reports the call's stored record; when that cannot be read, the
# resident hears that nothing was sent.
say handset_report_failed "Call guard. Sorry, the call could not be reported just now, so nothing has been sent. Please tell your family about the call."
