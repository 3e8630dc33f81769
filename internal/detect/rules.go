package detect

import "regexp"

// A rule finds one indicator in normalised text. Patterns read speech-recogniser output:
// lowercase words, digits for numbers, and gaps of a few words ("withdraw some of your cash",
// "withdraw the cash") written as {gap}.
type rule struct {
	kind Indicator
	re   *regexp.Regexp
	// negatable rules do not fire when a negation comes just before the match: a real bank
	// says "we will never ask for your pin".
	negatable bool
	// need lists strings one of which any match contains (see prefilter.go).
	need []string
	// neverAsked marks requests no genuine police officer or bank ever makes (a PIN, a
	// one-time code, a safe account, a courier): with an authority claim, a scam.
	neverAsked bool
}

// gap allows up to four words between the parts of a phrase; wideGap six.
const (
	gap     = `(?:\w+ ){0,4}`
	wideGap = `(?:\w+ ){0,6}`
)

func words(alternatives string) string { return `(?:` + alternatives + `)` }

var (
	money     = words(`cash|money|savings|funds|notes|pounds|\d+ pounds|\d{3,}|thousand|1000|balance|life savings|euros|dollars`)
	someone   = words(`courier|couriers|driver|officer|officers|colleague|colleagues|agent|someone|somebody|a man|a lady|a car|a taxi|a cab|(?:1|one) of (?:my|our|the) (?:officers|colleagues|team|drivers|agents)`)
	forces    = words(`metropolitan|city of london|\w+shire|thames valley|west midlands|greater manchester|merseyside|northumbria|\w+ county|british transport|ministry of defence|sussex|surrey|kent|essex|dorset|norfolk|suffolk|cumbria|durham|cleveland|humberside|gwent|avon and somerset|devon and cornwall|west mercia|west yorkshire|south yorkshire|north yorkshire|south wales|north wales|dyfed powys|transport`)
	valuables = words(`cash|money|card|cards|bank card|debit card|envelope|package|evidence|notes|gold|coins|bars|bullion|watch|rolex|jewellery|giftcard|vouchers|item|items|it|them|the money`)
	// negator also treats reported speech as not a request: "criminals pretend to be police
	// and ask you to withdraw cash".
	negator    = regexp.MustCompile(`(?:never|not|no one|nobody|neither|nor|criminals|scammers|fraudsters|crooks|pretend|pretending|pretends) (?:\w+ ){0,15}$`)
	rulesTable = []rule{
		// Who the caller says they are.
		{AuthorityClaim, mustRule(`(?:this is|i am|my name is|speaking|calling from|from the|im|am|it is|its) ` + gap + words(`detective|sergeant|constable|inspector|chief inspector|officer`) + `\b`), false, nil, false},
		{AuthorityClaim, mustRule(forces + ` police`), false, nil, false},
		{AuthorityClaim, mustRule(`\b` + words(`p c|d c|d s|d i|pc|dc|ds|di`) + ` \w+ ` + gap + `(?:from|with|at) (?:the )?` + forces), false, nil, false},
		{AuthorityClaim, mustRule(`(?:calling|ringing|phoning|i am|we are|this is) (?:\w+ ){0,3}(?:from|with) (?:the |your )?` + words(`police|bank|fraud|hmrc|tax office|serious fraud office|national crime agency|action fraud|financial conduct authority|trading standards|barclays|lloyds|natwest|hsbc|santander|nationwide|halifax|building society`)), false, nil, false},
		{AuthorityClaim, mustRule(words(`fraud|financial crime|financial crimes|economic crime|security|investigation|investigations|counter fraud|anti fraud|card services|card security|technical|tech support|customer protection`) + `(?: \w+)? ` + words(`department|team|squad|unit|division|office|investigation|investigator|investigators|here`)), false, nil, false},
		{AuthorityClaim, mustRule(words(`detective sergeant|detective constable|detective inspector|detective chief inspector|police constable|police sergeant|police officer|chief inspector`)), false, nil, false},
		{AuthorityClaim, mustRule(words(`warrant card|badge number|collar number|warrant number|shoulder number|police id|officer number`)), false, nil, false},
		// Money the caller wants moved, handed over or spent.
		{CashWithdrawal, mustRule(words(`withdraw|withdrawal|take out|draw out|get out|pull out|draw`) + ` ` + gap + money + `\b(?: (?:out|from))?`), true, nil, false},
		{CashWithdrawal, mustRule(words(`take|get|draw`) + ` ` + gap + money + ` out\b`), true, nil, false},
		{CashWithdrawal, mustRule(words(`counterfeit|fake notes|forged|marked notes|fake money|fake currency`) + ` ` + wideGap + money), true, nil, false},
		{CashWithdrawal, mustRule(`(?:go|going|pop|nip|head) (?:down |over |along )?to (?:the |your )?` + words(`bank|branch|post office|building society|cash machine|cashpoint`) + ` ` + gap + words(`withdraw|take out|get|draw|collect|cash`)), true, nil, false},
		{CashWithdrawal, mustRule(money + ` ` + gap + words(`as evidence|for evidence|for the investigation|to be checked|for fingerprint|for forensic|counterfeit|fake notes|marked`)), true, nil, false},
		{CourierCollection, mustRule(words(`send|sending|dispatch|arrange`) + ` ` + gap + someone + ` ` + gap + words(`round|over|to your|to collect|to pick|to your house|to your home|to your door|to your address|to come`)), true, nil, true},
		{CourierCollection, mustRule(someone + ` ` + wideGap + words(`collect|pick up|come and get|come and collect|take away|call round|take it|take them|pick it up|pick them up|pick it|pick them`) + `\b(?: ` + gap + valuables + `)?`), true, nil, true},
		{CourierCollection, mustRule(words(`put|place|seal|wrap`) + ` ` + gap + valuables + ` ` + gap + words(`envelope|bag|box|package`)), true, nil, true},
		{CourierCollection, mustRule(words(`hand|give|pass`) + ` (?:it |them |the \w+ |your \w+ )?` + words(`over|to`) + ` ` + gap + words(`courier|driver|officer|colleague|agent|my colleague|our colleague`)), true, nil, true},
		{CourierCollection, mustRule(`\bcourier\b ` + gap + words(`collect|pick|come|arrive|take`) + ` ` + gap + words(`cash|money|card|cards|envelope|evidence|it`)), true, nil, true},
		{CardOrPINRequest, mustRule(words(`tell|give|read|confirm|tap|type|enter|key|need|what is|say|verify|check|key in|punch`) + ` ` + gap + words(`pin|cvv|security code|card number|long number|card details|expiry date|3 digits|three digits|numbers on the back|digits on the back|4 numbers|numbers you use|number you use|digits you use`) + `\b`), true, nil, true},
		{CardOrPINRequest, mustRule(words(`card|cards`) + ` ` + wideGap + words(`evidence|forensic|forensics|examination|fingerprints|to be checked`)), true, nil, false},
		{CardOrPINRequest, mustRule(words(`hand|give|pass`) + ` ` + gap + words(`card|cards|bank card|debit card|credit card`) + `\b`), true, nil, true},
		{CardOrPINRequest, mustRule(words(`cut|snip`) + ` ` + gap + words(`card|cards`) + `\b`), true, nil, true},
		{SafeAccountTransfer, mustRule(words(`safe|secure|safety|holding|protected|new|temporary|secure holding`) + ` account`), true, nil, true},
		{SafeAccountTransfer, mustRule(words(`move|transfer|send|put`) + ` ` + gap + money + ` ` + gap + words(`account|accounts`)), true, nil, true},

		{HighValuePurchase, mustRule(words(`buy|purchase|get|order`) + ` ` + gap + words(`gold|bullion|gold bars|rolex|watch|watches|jewellery|jewelry|giftcard|vouchers|voucher|itunes|bitcoin|crypto|cryptocurrency|diamonds`)), true, nil, true},
		// How the caller works on the person.
		{Secrecy, mustRule(words(`do not|must not|never|not to|cannot|can not|should not`) + ` ` + words(`tell|mention|say|speak|discuss|inform|talk|let`) + ` ` + gap + words(`anyone|anybody|bank|cashier|staff|family|son|daughter|police|branch|teller|friends|neighbours|husband|wife|relatives`)), false, nil, false},
		{Secrecy, mustRule(words(`confidential|secret|between us|between ourselves|undercover|covert|strictly private|nobody else|no one else|keep it to yourself|keep this to yourself|jeopardise|jeopardize`)), false, nil, false},
		{Secrecy, mustRule(words(`cashier|bank staff|staff|teller|branch|people at the bank|someone at the bank|bank employee|employees`) + ` ` + gap + words(`involved|in on it|under investigation|corrupt|suspects|suspect|being investigated|working with|part of`)), false, nil, false},
		{Secrecy, mustRule(words(`say|tell them|tell the|if they ask|if anyone asks`) + ` ` + wideGap + words(`holiday|building work|builders|new car|car|kitchen|family|home improvements|present|wedding|renovation`)), false, nil, false},
		{UrgencyOrThreat, mustRule(words(`arrest|arrested|warrant|prosecute|prosecuted|prosecution|charged|court|prison|jail|criminal record|accomplice|obstruct|obstructing|perverting`)), false, nil, false},
		{UrgencyOrThreat, mustRule(words(`lose|lost|losing`) + ` ` + gap + words(`all|everything|savings|money|life savings`)), false, nil, false},
		{UrgencyOrThreat, mustRule(`account ` + gap + words(`compromised|hacked|been accessed|at risk|being used|been breached`)), false, nil, false},
		{UrgencyOrThreat, mustRule(words(`next half hour|next hour|next few minutes|within the hour|within an hour|within 30 minutes|can not guarantee|cant guarantee|will be gone`)), false, nil, false},
		{UrgencyOrThreat, mustRule(words(`right now|immediately|straight away|straightaway|as soon as possible|urgent|urgently|no time|before it is too late|within the hour|act now|today`) + ` ` + gap + words(`bank|money|cash|account|withdraw|go|transfer|move`)), false, nil, false},
		{UrgencyOrThreat, mustRule(words(`must|have to|need to|got to`) + ` ` + gap + words(`today|now|immediately|right away|this morning|this afternoon`)), false, nil, false},
		{UrgencyOrThreat, mustRule(words(`act now|act quickly|quickly please|every minute counts|no time to lose|before it is too late|as we speak|time is running out|before they take`)), false, nil, false},
		{CallbackTrick, mustRule(words(`hang up|put the phone down|end the call|put down the phone`) + ` ` + gap + words(`call|ring|dial|phone`) + ` ` + gap + words(`101|999|police|bank|number on|check`)), false, nil, false},
		{CallbackTrick, mustRule(words(`call|ring|dial|phone`) + ` (?:\w+ ){0,2}` + words(`101|999|police station|the police`) + ` ` + gap + words(`check|verify|confirm|prove|make sure`)), false, nil, false},
		{CallbackTrick, mustRule(words(`stay on the line|hold the line|i will hold|i will stay|i will wait|keep the line open|do not hang up|do not put the phone down|i will still be here|stay on the phone`)), false, nil, false},
		{CallbackTrick, mustRule(words(`prove|check|verify|confirm`) + ` ` + gap + words(`genuine|real|who i am|who i say|legitimate|i am genuine`)), false, nil, false},
		{DictatedNumber, mustRule(words(`call|ring|dial|phone|contact|reach|text`) + ` ` + gap + words(`on|number|direct line|extension`) + ` (?:\w+ ){0,3}\d{5,}`), false, nil, false},
		{DictatedNumber, mustRule(words(`my direct line|my number is|the number is|write this number|write down this number|write down the number|take down this number|reference number is|my extension|extension number`)), false, nil, false},
		{RemoteAccess, mustRule(words(`anydesk|teamviewer|quick support|quicksupport|remote access|remote desktop|remote control|screen share|screen sharing|share your screen|log me in|supremo|ultraviewer|rustdesk`)), true, nil, true},
		{RemoteAccess, mustRule(words(`download|install|put on`) + ` ` + gap + words(`app|application|program|programme|software`)), true, nil, true},
		{RemoteAccess, mustRule(words(`access to|into|control of`) + ` ` + gap + words(`computer|laptop|phone|tablet|ipad`)), true, nil, true},
		{RemoteAccess, mustRule(words(`log in|log into|login|log on|sign in|sign into`) + ` ` + gap + words(`online banking|banking|bank account|bank|banking app`)), true, nil, true},
		{PersonalDetails, mustRule(words(`online banking password|banking password|password|passcode|(?:1|one) time code|(?:1|one) time passcode|verification code|the code we sent|code we have sent|code that was sent|code we just sent|read me the code|read out the code|tell me the code|code on the screen|code on your screen|number it shows`)), true, nil, true},
		{PersonalDetails, mustRule(words(`date of birth|maiden name|security number|security questions|memorable word|memorable information|account number|sort code|national insurance`)), true, nil, false},
	}
)

func mustRule(pattern string) *regexp.Regexp { return regexp.MustCompile(pattern) }

func init() {
	for i := range rulesTable {
		rulesTable[i].need = requiredLiterals(rulesTable[i].re.String())
	}
}
