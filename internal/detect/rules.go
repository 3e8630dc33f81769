package detect

import (
	"fmt"
	"strings"
)

// A rule finds one indicator in a segment's words. Patterns (see phrase.go) read
// speech-recogniser output: lowercase words, digits for numbers, and gaps of a few words
// ("withdraw some of your cash") written ~4.
type rule struct {
	kind Indicator
	pat  string
	// negatable rules do not fire when a negation comes just before the match: a real bank
	// says "we will never ask for your pin".
	negatable bool
	// neverAsked marks requests no genuine police officer or bank ever makes (a PIN, a
	// one-time code, a safe account, a courier): with an authority claim, a scam.
	neverAsked bool

	p *pattern
}

// Word lists used by several rules. Each is a phrase choice, {a|b c|…}.
const (
	money     = `{cash|money|savings|funds|notes|pounds|# pounds|#3|thousand|balance|life savings|euros|dollars}`
	someone   = `{courier|couriers|driver|officer|officers|colleague|colleagues|agent|someone|somebody|a man|a lady|a car|a taxi|a cab|1/one of my/our/the officers/colleagues/team/drivers/agents}`
	forces    = `{metropolitan|city of london|*shire|thames valley|west midlands|greater manchester|merseyside|northumbria|_ county|british transport|ministry of defence|sussex|surrey|kent|essex|dorset|norfolk|suffolk|cumbria|durham|cleveland|humberside|gwent|avon and somerset|devon and cornwall|west mercia|west yorkshire|south yorkshire|north yorkshire|south wales|north wales|dyfed powys|transport}`
	valuables = `{cash|money|card|cards|bank card|debit card|envelope|package|evidence|notes|gold|coins|bars|bullion|watch|rolex|jewellery|giftcard|vouchers|item|items|it|them|the money}`
)

// negators are the words that, up to negationReach words before a match, make it advice or
// reported speech rather than a request: "we will never ask for your pin", "criminals
// pretend to be police and ask you to withdraw cash".
var negators = []string{"never", "not", "no one", "nobody", "neither", "nor", "criminals", "scammers", "fraudsters", "crooks", "pretend", "pretending", "pretends"}

const negationReach = 16

var rulesTable = []rule{
	// Who the caller says they are.
	{AuthorityClaim, `{this is|i am|my name is|speaking|calling from|from the|am|it is} ~4 detective|sergeant|constable|inspector|officer`, false, false, nil},
	{AuthorityClaim, forces + ` police`, false, false, nil},
	{AuthorityClaim, `{p c|d c|d s|d i|pc|dc|ds|di} _ ~4 from|with|at [the] ` + forces, false, false, nil},
	{AuthorityClaim, `{calling|ringing|phoning|i am|we are|this is} ~3 from|with [the|your] {police|bank|fraud|hmrc|tax office|serious fraud office|national crime agency|action fraud|financial conduct authority|trading standards|barclays|lloyds|natwest|hsbc|santander|nationwide|halifax|building society}`, false, false, nil},
	{AuthorityClaim, `{fraud|financial crime|financial crimes|economic crime|security|investigation|investigations|counter fraud|anti fraud|card services|card security|technical|tech support|customer protection} [_] department|team|squad|unit|division|office|investigation|investigations|investigator|investigators|here`, false, false, nil},
	{AuthorityClaim, `{detective sergeant|detective constable|detective inspector|detective chief inspector|police constable|police sergeant|police officer|chief inspector}`, false, false, nil},
	{AuthorityClaim, `{warrant card|badge number|collar number|warrant number|shoulder number|police id|officer number}`, false, false, nil},

	// Money the caller wants moved, handed over or spent.
	{CashWithdrawal, `{withdraw|withdrawal|take out|draw out|get out|pull out|draw} ~4 ` + money, true, false, nil},
	{CashWithdrawal, `take|get|draw ~4 ` + money + ` out`, true, false, nil},
	{CashWithdrawal, `{counterfeit|fake notes|forged|marked notes|fake money|fake currency} ~6 ` + money, true, false, nil},
	{CashWithdrawal, `go|going|pop|nip|head [down|over|along] to [the|your] {bank|branch|post office|building society|cash machine|cashpoint} ~4 {withdraw|take out|get|draw|collect|cash}`, true, false, nil},
	{CashWithdrawal, money + ` ~4 {as evidence|for evidence|for the investigation|to be checked|for fingerprint|for fingerprints|for forensic|for forensics|counterfeit|fake notes|marked}`, true, false, nil},
	{CourierCollection, `send|sending|dispatch|arrange ~4 ` + someone + ` ~4 {round|over|to your|to collect|to pick|to come}`, true, true, nil},
	{CourierCollection, someone + ` ~6 {collect|pick up|come and get|come and collect|take away|call round|take it|take them|pick it|pick them}`, true, true, nil},
	{CourierCollection, `put|place|seal|wrap ~4 ` + valuables + ` ~4 envelope|bag|box|package`, true, true, nil},
	{CourierCollection, `hand|give|pass [it|them|the _|your _] over|to ~4 {courier|driver|officer|colleague|agent}`, true, true, nil},
	{CourierCollection, `courier ~4 collect|pick|come|arrive|take ~4 {cash|money|card|cards|envelope|evidence|it}`, true, true, nil},
	{CardOrPINRequest, `{tell|give|read|confirm|tap|type|enter|key|need|what is|say|verify|check|key in|punch} ~4 {pin|cvv|security code|card number|long number|card details|expiry date|3 digits|three digits|numbers on the back|digits on the back|4 numbers|numbers you use|number you use|digits you use}`, true, true, nil},
	{CardOrPINRequest, `card|cards ~6 {evidence|forensic|forensics|examination|fingerprints|to be checked}`, true, false, nil},
	{CardOrPINRequest, `hand|give|pass ~4 {card|cards|bank card|debit card|credit card}`, true, true, nil},
	{CardOrPINRequest, `cut|snip ~4 card|cards`, true, true, nil},
	{SafeAccountTransfer, `{safe|secure|safety|holding|protected|new|temporary|secure holding} account`, true, true, nil},
	{SafeAccountTransfer, `move|transfer|send|put ~4 ` + money + ` ~4 account|accounts`, true, true, nil},
	{HighValuePurchase, `buy|purchase|get|order ~4 {gold|bullion|gold bars|rolex|watch|watches|jewellery|jewelry|giftcard|vouchers|voucher|itunes|bitcoin|crypto|cryptocurrency|diamonds}`, true, true, nil},

	// How the caller works on the person.
	{Secrecy, `{do not|must not|never|not to|can not|should not} tell|mention|say|speak|discuss|inform|talk|let ~4 {anyone|anybody|bank|cashier|staff|family|son|daughter|police|branch|teller|friends|neighbours|husband|wife|relatives}`, false, false, nil},
	{Secrecy, `{confidential|confidentially|secret|secretly|between us|between ourselves|undercover|covert|strictly private|nobody else|no one else|keep it to yourself|keep this to yourself|jeopardise|jeopardize}`, false, false, nil},
	{Secrecy, `{cashier|bank staff|staff|teller|branch|people at the bank|someone at the bank|bank employee|employees} ~4 {involved|in on it|under investigation|corrupt|suspects|suspect|being investigated|working with|part of}`, false, false, nil},
	{Secrecy, `{say|tell them|tell the|if they ask|if anyone asks} ~6 {holiday|building work|builders|new car|car|kitchen|family|home improvements|present|wedding|renovation}`, false, false, nil},
	{UrgencyOrThreat, `{arrest|arrested|warrant|prosecute|prosecuted|prosecution|charged|court|prison|jail|criminal record|accomplice|obstruct|obstructing|perverting}`, false, false, nil},
	{UrgencyOrThreat, `lose|lost|losing ~4 {all|everything|savings|money|life savings}`, false, false, nil},
	{UrgencyOrThreat, `account ~4 {compromised|hacked|been accessed|at risk|being used|been breached}`, false, false, nil},
	{UrgencyOrThreat, `{next half hour|next hour|next few minutes|within the hour|within an hour|within 30 minutes|can not guarantee|cant guarantee|will be gone}`, false, false, nil},
	{UrgencyOrThreat, `{right now|immediately|straight away|straightaway|as soon as possible|urgent|urgently|no time|before it is too late|within the hour|act now|today} ~4 bank|money|cash|account|withdraw|go|transfer|move`, false, false, nil},
	{UrgencyOrThreat, `{must|have to|need to|got to} ~4 {today|now|immediately|right away|this morning|this afternoon}`, false, false, nil},
	{UrgencyOrThreat, `{act now|act quickly|quickly please|every minute counts|no time to lose|before it is too late|as we speak|time is running out|before they take}`, false, false, nil},
	{CallbackTrick, `{hang up|put the phone down|end the call|put down the phone} ~4 call|ring|dial|phone ~4 {101|999|police|bank|number on|check}`, false, false, nil},
	{CallbackTrick, `call|ring|dial|phone ~2 {101|999|police station|the police} ~4 {check|verify|confirm|prove|make sure}`, false, false, nil},
	{CallbackTrick, `{stay on the line|hold the line|i will hold|i will stay|i will wait|keep the line open|do not hang up|do not put the phone down|i will still be here|stay on the phone}`, false, false, nil},
	{CallbackTrick, `prove|check|verify|confirm ~4 {genuine|real|who i am|who i say|legitimate|i am genuine}`, false, false, nil},
	{DictatedNumber, `call|ring|dial|phone|contact|reach|text ~4 {on|number|direct line|extension} ~3 #5`, false, false, nil},
	{DictatedNumber, `{my direct line|my number is|the number is|write this number|write down this number|write down the number|take down this number|reference number is|my extension|extension number}`, false, false, nil},
	{RemoteAccess, `{anydesk|teamviewer|quick support|quicksupport|remote access|remote desktop|remote control|screen share|screen sharing|share your screen|log me in|supremo|ultraviewer|rustdesk}`, true, true, nil},
	{RemoteAccess, `{download|install|put on} ~4 app|application|program|programme|software`, true, true, nil},
	{RemoteAccess, `{access to|into|control of} ~4 computer|laptop|phone|tablet|ipad`, true, true, nil},
	{RemoteAccess, `{log in|log into|login|log on|sign in|sign into} ~4 {online banking|banking|bank account|bank|banking app}`, true, true, nil},
	{PersonalDetails, `{online banking password|banking password|password|passcode|1/one time code|1/one time passcode|verification code|the code we sent|code we have sent|code that was sent|code we just sent|read me the code|read out the code|tell me the code|code on the screen|code on your screen|number it shows}`, true, true, nil},
	{PersonalDetails, `{date of birth|maiden name|security number|security questions|memorable word|memorable information|account number|sort code|national insurance}`, true, false, nil},
}

// The compiled rules: every word they name, and for each word the rules a match may start
// with it.
var (
	rulesVocab = vocab{ids: map[string]int32{}}
	anchored   map[int32][]int // vocabulary id → indexes into rulesTable
	unanchored []int           // rules a match of which may start with any word
	negatorSeq [][]int32       // negators as vocabulary ids
)

func init() {
	anchored = map[int32][]int{}
	for i := range rulesTable {
		r := &rulesTable[i]
		p, err := compile(r.pat, &rulesVocab)
		if err != nil {
			panic(fmt.Sprintf("detect: rule %d (%s): %v", i, r.kind, err))
		}
		r.p = p
		ids := p.anchors()
		if ids == nil {
			unanchored = append(unanchored, i)
			continue
		}
		seen := map[int32]bool{}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				anchored[id] = append(anchored[id], i)
			}
		}
	}
	for _, n := range negators {
		var seq []int32
		for _, w := range strings.Fields(n) {
			seq = append(seq, rulesVocab.id(w))
		}
		negatorSeq = append(negatorSeq, seq)
	}
}
