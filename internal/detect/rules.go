package detect

import (
	"fmt"
	"sort"
	"strings"
)

// A rule finds one indicator in a segment's words. Patterns (see phrase.go) read
// speech-recogniser output: lowercase words, digits for numbers, and gaps of a few words
// ("withdraw some of your cash") written ~4.
type rule struct {
	kind  Indicator
	pat   string
	flags ruleFlags
	// unless, when set, is a phrase that cancels the match when it is said in the match or
	// just after it: "call us back on the number on the back of your card" is the advice a
	// genuine bank gives, not a number dictated.
	unless string

	p, u *pattern
}

type ruleFlags uint8

const (
	// neg: the rule does not fire when a negation comes just before the match — a real bank
	// says "we will never ask for your pin".
	neg ruleFlags = 1 << iota
	// never: a request no genuine police officer, bank or company ever makes on a call (a
	// PIN, a one-time code, a safe account, a courier, remote control of a computer): with a
	// claim to be one of them, a scam.
	never
	// weak: a wording genuine callers use too ("today", "your date of birth", "press 1 if
	// this was you"). It shows the indicator but does not count toward the shape of a scam.
	weak
	// windfall: a problem that is good news — a refund, a prize, a lower rate. It counts as the
	// hook of a robocall ("you have won… press 1") but, unlike a breach or an order the person
	// did not make, not as the news a company rings about.
	windfall
)

// Word lists used by several rules. Each is a phrase choice, {a|b c|…}.
const (
	money     = `{cash|money|savings|funds|notes|pounds|# pounds|# dollars|#3|thousand|balance|life savings|euros|dollars}`
	someone   = `{courier|couriers|driver|officer|officers|colleague|colleagues|agent|someone|somebody|a man|a lady|a car|a taxi|a cab|1/one of my/our/the officers/colleagues/team/drivers/agents}`
	forces    = `{metropolitan|city of london|*shire|thames valley|west midlands|greater manchester|merseyside|northumbria|_ county|british transport|ministry of defence|sussex|surrey|kent|essex|dorset|norfolk|suffolk|cumbria|durham|cleveland|humberside|gwent|avon and somerset|devon and cornwall|west mercia|west yorkshire|south yorkshire|north yorkshire|south wales|north wales|dyfed powys|transport}`
	valuables = `{cash|money|card|cards|bank card|debit card|envelope|package|evidence|notes|gold|coins|bars|bullion|watch|rolex|jewellery|giftcard|vouchers|item|items|it|them|the money}`
	// introduce: how a caller says who they are.
	introduce = `{this is|i am|we are|my name is|calling from|calling you from|call from|calling on behalf of|on behalf of|this call is from|this message is from|a message from|an important message from|a call from|speaking from|from the|with the|here at|thank you for calling|thanks for calling|thank you for choosing|thanks for choosing|welcome to|you have reached|you are through to|you are speaking to|you are speaking with|connected with|connected to|connecting with|department of|officer from|agent from|notice from}`
	// government: agencies, courts and offices a caller claims to speak for.
	government = `{hmrc|hm revenue|revenue and customs|inland revenue|irs|internal revenue|internal revenue service|social security administration|social security office|social security department|ssa|customs and border|border protection|border force|customs|home office|immigration|immigration department|dwp|department for work and pensions|department of work and pensions|federal government|federal bureau|fbi|dea|drug enforcement|department of justice|justice department|ministry of justice|legal department|legal team|legal division|tax department|tax office|treasury|federal reserve|federal trade commission|ftc|the court|county court|magistrates court|crown court|the government|government agency|medicare|council tax|tv licensing|national crime agency|interpol|sheriff|marshals|embassy|police|serious fraud office|action fraud|financial conduct authority|trading standards}`
	// banks: banks, building societies and card issuers.
	banks = `{bank|the bank|your bank|barclays|lloyds|natwest|hsbc|santander|nationwide|halifax|tsb|metro bank|monzo|starling|first direct|co operative bank|virgin money|royal bank|rbs|bank of scotland|bank of america|chase|wells fargo|citibank|citi|capital one|american express|amex|visa|mastercard|discover|card services|card member services|cardholder services|credit card services|building society}`
	// companies: retailers, platforms, software, broadband, phone, energy and delivery firms.
	companies = `{amazon|amazon prime|apple|icloud|itunes|microsoft|windows|google|gmail|paypal|ebay|netflix|facebook|whatsapp|instagram|norton|mcafee|macafee|avast|geek squad|best buy|walmart|costco|argos|currys|tesco|bt|british telecom|openreach|virgin media|sky|talktalk|vodafone|o2|plusnet|verizon|comcast|xfinity|spectrum|at and t|british gas|edf|eon|octopus energy|ovo|scottish power|npower|royal mail|dhl|ups|fedex|dpd|evri|hermes|parcelforce|usps|cash app|coinbase|binance|dell|hp|lenovo|samsung|yahoo|hotmail|outlook|aol|xbox|playstation|adobe}`
	// supportDesk: the departments a company's caller speaks for.
	supportDesk = `{support|customer support|customer service|customer services|customer care|technical support|tech support|technical department|support team|support department|billing department|billing team|refund department|refund team|cancellation department|cancellation team|security department|security team|fraud department|account team|helpline|help desk|service center|service centre|processing center|processing centre|support center|support centre|notifications department|disconnection department|disconnections department|warranty department|benefits center|rewards program|rewards department}`
	relatives   = `{grandson|granddaughter|grandchild|grandkid|son|daughter|nephew|niece|favourite grandson|favorite grandson|husband|wife|brother|sister}`
	digitWord   = `{#|one|won|two|too|three|four|five|six|seven|eight|nine|zero|star|hash|pound}`
)

// negators are the words that, up to negationReach words before a match, make it advice or
// reported speech rather than a request: "we will never ask for your pin", "criminals
// pretend to be police and ask you to withdraw cash".
var negators = []string{"never", "not", "no one", "nobody", "neither", "nor", "criminals", "scammers", "fraudsters", "crooks", "pretend", "pretending", "pretends"}

const negationReach = 16

// genuineAdvice cancels a call-back instruction: the number on the card is the right one.
const genuineAdvice = `{number on the back|back of your card|of your card|on your card|number on your statement|number on your bill|on your bill|number in your email|official number|official website|gov uk|number you trust|number you know|another phone|different phone}`

var rulesTable = []rule{
	// Who the caller says they are.
	{AuthorityClaim, `{this is|i am|my name is|speaking|calling from|from the|am|it is} ~4 {detective sergeant|detective constable|detective inspector|detective chief inspector|chief inspector|police constable|police sergeant|police officer|special agent|federal agent|detective|sergeant|constable|inspector|officer|agent}`, 0, "", nil, nil},
	{AuthorityClaim, forces + ` police`, 0, "", nil, nil},
	{AuthorityClaim, `{p c|d c|d s|d i|pc|dc|ds|di} _ ~4 from|with|at [the] ` + forces, 0, "", nil, nil},
	{AuthorityClaim, `{calling|ringing|phoning|i am|we are|this is} ~3 from|with [the|your] {police|bank|fraud|hmrc|tax office|serious fraud office|national crime agency|action fraud|financial conduct authority|trading standards|barclays|lloyds|natwest|hsbc|santander|nationwide|halifax|building society}`, 0, "", nil, nil},
	{AuthorityClaim, `{fraud|financial crime|financial crimes|economic crime|investigation|investigations|counter fraud|anti fraud|card services|card security|customer protection} [_] department|team|squad|unit|division|office|investigation|investigations|investigator|investigators|here`, 0, "", nil, nil},
	{AuthorityClaim, `{detective sergeant|detective constable|detective inspector|detective chief inspector|police constable|police sergeant|police officer|chief inspector|special agent|federal agent|investigation officer|investigating officer|case officer|enforcement officer|legal officer|tax officer|revenue officer|badge id|badge number|officer badge}`, 0, "", nil, nil},
	{AuthorityClaim, `{warrant card|collar number|warrant number|shoulder number|police id|officer number}`, 0, "", nil, nil},
	{AuthorityClaim, introduce + ` ~2 ` + government, 0, "", nil, nil},
	{AuthorityClaim, introduce + ` ~2 ` + banks, 0, "", nil, nil},
	{AuthorityClaim, `{hmrc|hm|irs|ssa|social security|the legal|the tax|the fraud} {department|office|officer|officers|agent|agents|division|administration}`, 0, "", nil, nil},
	{AuthorityClaim, banks + ` {fraud department|fraud team|fraud prevention|security department|security team|card services}`, 0, "", nil, nil},
	{CompanyClaim, introduce + ` ~2 ` + companies, 0, "", nil, nil},
	{CompanyClaim, companies + ` ` + supportDesk, 0, "", nil, nil},
	{CompanyClaim, introduce + ` ~2 ` + supportDesk, 0, "", nil, nil},
	{CompanyClaim, `{calling from|calling you from|this is the|i am from|we are from|i am calling from|this call is from|this message is from} ~3 {department|centre|center|division|helpline|help desk|hotline|services department}`, 0, "", nil, nil},
	{CompanyClaim, `your ` + companies + ` {account|id|subscription|membership|order|prime|device|computer|phone|router|service}`, 0, "", nil, nil},
	{CompanyClaim, `{calling from|this is|on behalf of|from your|your} ~2 {electric|electricity|energy|gas|water|power|broadband|internet|cable|phone|mobile|utility} {company|supplier|provider|service provider|board|department}`, 0, "", nil, nil},
	{RelativeClaim, `{grandma|grandmother|granny|gran|nan|nana|nanna|grandpa|grandad|granddad|grandfather|mum|mom|mummy|dad|auntie|aunt|uncle} ~2 {it is me|this is me|it is your|this is your}`, 0, "", nil, nil},
	{RelativeClaim, `{it is|this is} {me|your} ~1 ` + relatives, 0, "", nil, nil},
	{RelativeClaim, `{do you know who this is|guess who this is|guess who it is|do not you recognise|dont you recognise|you do not recognise my voice|you dont recognise my voice}`, 0, "", nil, nil},
	{RelativeClaim, `{calling about|calling on behalf of|representing|lawyer for|attorney for|solicitor for|lawyer representing|attorney representing} ~1 your ` + relatives, 0, "", nil, nil},

	// What the caller says has happened.
	{UnexpectedProblem, `{order|orders|purchase|purchases|transaction|transactions|charge|charges|payment|payments|subscription|renewal|invoice} ~4 {will be charged|will be deducted|will be debited|has been charged|charged to your|deducted from your|debited from your|using your|in your name|under your name|was this you|not authorised|not authorized|you did not|you didnt|you do not recognise|from four different|from different|from another}`, 0, "", nil, nil},
	{UnexpectedProblem, `{been|being|be|get|got|getting|was|were} charged|billed|debited`, neg, "", nil, nil},
	{UnexpectedProblem, `{membership|subscription|contract|plan|service|licence|license|protection|antivirus} ~3 {renewed|renew|auto renew|charged|expired|expiring|will expire|has expired|cancelled|terminated}`, 0, "", nil, nil},
	{UnexpectedProblem, `{been|being|was|were|is being|has been} ordered|purchased|placed|bought ~4 {from your|on your|using your|with your|under your|in your name}`, 0, "", nil, nil},
	{UnexpectedProblem, `{purchase|order|orders|purchases} {of|for} ~3 {iphone|iphones|macbook|laptop|playstation|xbox|airpods|ipad|television|gift card|giftcard|giftcards|bitcoin|bitcoins|gaming console}`, 0, "", nil, nil},
	{UnexpectedProblem, `{money|payment|payments|funds|#|pounds|dollars} ~3 {has been taken|been taken|was taken|going to be taken|taken out of|missing from|gone from|stolen from|taken from}`, 0, "", nil, nil},
	{UnexpectedProblem, `{computer|laptop|pc|screen|device|account|phone|system} ~5 {locked|is locked|been locked|frozen|is frozen|been frozen|is blocked|got blocked|limited|restricted|on hold}`, 0, "", nil, nil},
	{UnexpectedProblem, `{firewall|antivirus|security software|windows defender|router} ~3 {expired|down|disabled|breached|not working|stopped working|compromised|infected}`, 0, "", nil, nil},
	{UnexpectedProblem, `{message|pop up|popup|warning|alert|notification|error message} ~3 {on my computer|on my screen|on the screen|on your computer|on your screen|on my laptop|on the computer}`, 0, "", nil, nil},
	{UnexpectedProblem, `{i was not expecting|i wasnt expecting|i dont think i bought|i do not think i bought|i dont remember ordering|i do not remember ordering|i do not recognise|i dont recognise|i do not recognize|i dont recognize|strange invoice|strange charge|strange email|strange order|an invoice from|a charge from|charge on my card|charge on my account}`, 0, "", nil, nil},
	{UnexpectedProblem, `{pre authorised|pre authorized|preauthorized|preauthorised|pre approved} {order|orders|purchase|payment|transaction|charge}`, 0, "", nil, nil},
	{UnexpectedProblem, `{order|orders|purchase|purchases|transaction|transactions|charge|charges|payment|payments|subscription|renewal|invoice} ~3 {placed|made|of # dollars|of # pounds|of #|for #|worth|processed|renewed|auto renewed|approved|authorised|authorized|pending|on your|from your|has been}`, weak, "", nil, nil},
	{UnexpectedProblem, `{unusual|suspicious|fraudulent|unauthorised|unauthorized|illegal|strange|criminal|unknown} {activity|activities|login|logins|log in|sign in|transaction|transactions|charge|charges|order|orders|purchase|purchases|payment|payments|access|attempts|use|devices|device}`, 0, "", nil, nil},
	{UnexpectedProblem, `{virus|viruses|malware|trojan|spyware|infected|infection|hacked|hacker|hackers|hacking|been compromised|been breached|security breach|data breach|data bridge|blocked for security|been blocked|has been blocked|is blocked|been locked|locked your|auto renewal|auto renewed|automatically renewed|automatic renewal|subscription renewal}`, 0, "", nil, nil},
	{UnexpectedProblem, `{someone|somebody|hackers|criminals|people} ~3 {is trying|are trying|has been using|have been using|has accessed|have accessed|has hacked|have hacked|is using|are using|trying to use|trying to access|used your|accessed your|misusing|misuse}`, 0, "", nil, nil},
	{UnexpectedProblem, `{refund|refunds|rebate|compensation|reimbursement|entitled to|eligible for|you qualify|you may qualify|qualified for|pre approved|preapproved|pre selected|preselected|selected to receive|been selected|you have won|you won|winner|prize|lottery|sweepstakes|jackpot|complimentary|free gift|free cruise|free vacation|free holiday|cash back|grant|grants|loan forgiveness|debt relief|lower your interest|lower interest|interest rate reduction|rate reduction|reduce your interest|0 percent interest|extended warranty|warranty|investment opportunity|business opportunity|guaranteed return|guaranteed returns|double your money|high returns|tax rebate|overcharged|over charged|new medicare card|eligible to receive|you are eligible|free upgrade|free trip|amazing deal|percent discount|per cent discount|percent off|absolutely free|completely free|totally free|free of charge|at no cost|no cost to you|forgiveness program|relief program|special offer|exclusive offer|limited time offer}`, windfall, "", nil, nil},
	{UnexpectedProblem, `{outstanding|overdue|unpaid|delinquent|past due|back taxes|tax debt|arrears|you owe|amount owed|money owed|still owe} ~2 {balance|amount|tax|taxes|bill|account|payment|debt|status|money|#}`, 0, "", nil, nil},
	{UnexpectedProblem, `your {social security|social insurance|national insurance|ssn|tax|identity|id|name|account|computer|ip address|internet|router|license|licence|bank account|card} ~3 {suspended|compromised|blocked|misused|flagged|involved|used in|has been used|been used|expired|expire|expiring|hacked|at risk}`, 0, "", nil, nil},
	{UnexpectedProblem, `{package|parcel|shipment|consignment|delivery} ~4 {seized|held|on hold|failed|could not be delivered|returned|under your name|customs fee|illegal|drugs|contraband}`, 0, "", nil, nil},
	{UnexpectedProblem, `{i am|i have been|i got|i was|he is|she is|he has been|she has been|he was|she was|your grandson is|your son is|your daughter is|your grandson has been} ~2 {arrested|in jail|in prison|in trouble|in hospital|in the hospital|in an accident|in a car accident|in a crash|locked up|detained|stuck|stranded|kidnapped}`, 0, "", nil, nil},
	{UnexpectedProblem, `{bail money|bail bond|post bail|his bail|my bail|her bail|the bail|legal fees|hospital bill|medical bills|my new number|lost my phone|broke my phone|changed my number|this is my new number}`, 0, "", nil, nil},
	{UnexpectedProblem, `{typed|entered|put|sent|transferred|refunded|credited|deposited} ~3 {too much|extra|an extra|more than|the wrong amount|additional} ~2 {money|zero|zeros|dollars|pounds|amount|#}`, 0, "", nil, nil},
	{UnexpectedProblem, `{problem|problems|issue|issues|something wrong|a case|criminal activity|suspicious activity} with|on|against|under [the] {my|your} ~3 {national insurance|social security|tax|taxes|account|computer|bank account|card|laptop|identity|name}`, 0, "", nil, nil},
	{UnexpectedProblem, `{i did not|i didnt|i never|i have not|i havent|we did not|we didnt|we never} ~2 {order|ordered|make|made|authorise|authorize|authorised|authorized|place|placed|buy|bought|purchase|purchased|recognise|recognize|sign up|signed up|agree|agreed}`, 0, "", nil, nil},
	{UnexpectedProblem, `{if you did not|if you didnt|if you do not|if you dont|if you have not|if you havent} ~2 {order|make|made|authorise|authorize|authorised|authorized|place|placed|recognise|recognize|approve}`, weak, "", nil, nil},
	{UnexpectedProblem, `error|errors|warning|warnings|problem|problems|issue|issues ~3 {computer|laptop|pc|system|device|network|router|internet|account}`, weak, "", nil, nil},

	// Money the caller wants moved, handed over or spent.
	{CashWithdrawal, `{withdraw|withdrawal|take out|draw out|get out|pull out|draw} ~4 ` + money, neg, "", nil, nil},
	{CashWithdrawal, `take|get|draw ~4 ` + money + ` out`, neg, "", nil, nil},
	{CashWithdrawal, `{counterfeit|fake notes|forged|marked notes|fake money|fake currency} ~6 ` + money, neg, "", nil, nil},
	{CashWithdrawal, `go|going|pop|nip|head [down|over|along] to [the|your] {bank|branch|post office|building society|cash machine|cashpoint} ~4 {withdraw|take out|get|draw|collect|cash}`, neg, "", nil, nil},
	{CashWithdrawal, money + ` ~4 {as evidence|for evidence|for the investigation|to be checked|for fingerprint|for fingerprints|for forensic|for forensics|counterfeit|fake notes|marked}`, neg, "", nil, nil},
	{CourierCollection, `send|sending|dispatch|arrange ~4 ` + someone + ` ~4 {round|over|to your|to collect|to pick|to come}`, neg | never, "", nil, nil},
	{CourierCollection, someone + ` ~6 {collect|pick up|come and get|come and collect|take away|call round|take it|take them|pick it|pick them}`, neg | never, "", nil, nil},
	{CourierCollection, `put|place|seal|wrap ~4 ` + valuables + ` ~4 envelope|bag|box|package`, neg | never, "", nil, nil},
	{CourierCollection, `hand|give|pass [it|them|the _|your _] over|to ~4 {courier|driver|officer|colleague|agent}`, neg | never, "", nil, nil},
	{CourierCollection, `courier ~4 collect|pick|come|arrive|take ~4 {cash|money|card|cards|envelope|evidence|it}`, neg | never, "", nil, nil},
	{CardOrPINRequest, `{tell|give|read|confirm|tap|type|enter|key|need|what is|say|verify|check|key in|punch|provide} ~4 {pin|cvv|security code|card number|long number|card details|expiry date|3 digits|three digits|numbers on the back|digits on the back|4 numbers|numbers you use|number you use|digits you use}`, neg | never, "", nil, nil},
	{CardOrPINRequest, `card|cards ~6 {evidence|forensic|forensics|examination|fingerprints|to be checked}`, neg, "", nil, nil},
	{CardOrPINRequest, `hand|give|pass ~4 {your card|your cards|your bank card|your debit card|your credit card|the card|the cards|your bank cards}`, neg | never, "", nil, nil},
	{CardOrPINRequest, `cut|snip ~4 card|cards`, neg | never, "", nil, nil},
	{SafeAccountTransfer, `{safe|secure|safety|holding|protected|new|temporary|secure holding} account`, neg | never, "", nil, nil},
	{SafeAccountTransfer, `move|transfer|send|put ~4 ` + money + ` ~4 account|accounts`, neg | never, "", nil, nil},
	{HighValuePurchase, `buy|purchase|get|order ~4 {gold|bullion|gold bars|rolex|watch|watches|jewellery|jewelry|giftcard|vouchers|voucher|itunes|bitcoin|crypto|cryptocurrency|diamonds}`, neg | never, "", nil, nil},
	{UnusualPayment, `{giftcard|giftcards|razer gold|google play|play store card|itunes card|itunes cards|steam card|steam cards|apple card|amazon card|ebay card|vanilla visa|prepaid card|prepaid cards|reload card|green dot|moneypak|money pak|paysafe|paysafecard|ukash|vouchers|voucher codes|card codes|codes on the back}`, neg | never, "", nil, nil},
	{UnusualPayment, `{bitcoin|bitcoins|btc|crypto|cryptocurrency|bitcoin atm|bitcoin machine|crypto wallet|usdt|tether|ethereum|western union|moneygram|money gram|wire transfer|wire the money|wire it|wire money|money order|cashiers check|cashier check}`, neg | never, "", nil, nil},
	{UnusualPayment, `{processing fee|release fee|customs fee|clearance fee|administration fee|admin fee|handling fee|transfer fee|registration fee|activation fee|small fee|upfront fee|advance fee|a fee of|fine of|penalty of|pay the fine|pay a fine|pay the penalty|settle the amount|settle the case|settlement amount|pay the amount}`, neg, "", nil, nil},
	{UnusualPayment, `send|give|pay|transfer|return ~3 {the money|the difference|the extra|it|that|the rest} back`, neg | never, "", nil, nil},
	{UnusualPayment, `{send|post|mail|put} ~3 cash ~3 {in the post|by post|in an envelope|by mail|in the mail|through the post}`, neg | never, "", nil, nil},

	// How the caller works on the person.
	{Secrecy, `{do not|must not|never|not to|can not|should not} tell|mention|say|speak|discuss|inform|talk|let ~4 {anyone|anybody|bank|cashier|staff|family|son|daughter|police|branch|teller|friends|neighbours|husband|wife|relatives|mum|mom|dad|parents}`, 0, "", nil, nil},
	{Secrecy, `{confidential|confidentially|secret|secretly|between us|between ourselves|undercover|covert|strictly private|nobody else|no one else|keep it to yourself|keep this to yourself|jeopardise|jeopardize|gag order}`, 0, "", nil, nil},
	{Secrecy, `{cashier|bank staff|staff|teller|branch|people at the bank|someone at the bank|bank employee|employees} ~4 {involved|in on it|under investigation|corrupt|suspects|suspect|being investigated|working with|part of}`, 0, "", nil, nil},
	{Secrecy, `{say|tell them|tell the|if they ask|if anyone asks} ~6 {holiday|building work|builders|new car|car|kitchen|family|home improvements|present|wedding|renovation}`, 0, "", nil, nil},
	{UrgencyOrThreat, `{arrest|arrested|warrant|warrants|prosecute|prosecuted|prosecution|criminal record|accomplice|obstruct|obstructing|perverting|legal action|legal actions|legal proceedings|lawsuit|law suit|legal case|criminal case|court case|case filed|case against you|complaint filed|filed against|charges against|criminal charges|criminal offense|criminal offence|federal offense|federal offence|non bailable|into custody|federal custody|deport|deported|deportation|seized|frozen|freeze your|blacklisted|legal enforcement|enforcement action|final notice|final warning|final attempt|last attempt|final courtesy call|final reminder|last notice|last warning|tax evasion|tax fraud|money laundering|drug trafficking|identity theft|intercepted|confiscated|jail time|imprisonment|courthouse|court house|initial appearance|criminal lawyer|grand jury|magistrate judge|legal notice|legal matter|legal issue|suspend|suspended|suspension|suspending|blocked permanently|terminated|cut off|disconnect|disconnected|disconnection|interruption of service|shut off|shutoff|revoked|cancelled permanently}`, 0, "", nil, nil},
	{UrgencyOrThreat, `{court|prison|jail|charged|magistrate|judge}`, weak, "", nil, nil},
	{UrgencyOrThreat, `lose|lost|losing ~4 {all|everything|savings|money|life savings}`, 0, "", nil, nil},
	{UrgencyOrThreat, `{local police|local authorities|law enforcement|the sheriff|bailiffs|bailiff|enforcement agents|enforcement officers} ~4 {come|coming|arrest|visit|knock|will be|are on|on their way|sent}`, 0, "", nil, nil},
	{UrgencyOrThreat, `{to avoid|avoid|to stop|to prevent} ~3 {arrest|legal action|prosecution|penalty|penalties|court|jail|prison|the warrant|being arrested|deportation|suspension|disconnection}`, 0, "", nil, nil},
	{UrgencyOrThreat, `{been served|summons|subpoena|court order|court notice|legal notification|criminal complaint}`, 0, "", nil, nil},
	{UrgencyOrThreat, `account ~4 {compromised|hacked|been accessed|at risk|being used|been breached}`, 0, "", nil, nil},
	{UrgencyOrThreat, `{next half hour|next hour|next few minutes|within the hour|within an hour|within 30 minutes|within 24 hours|within 48 hours|can not guarantee|cant guarantee|will be gone}`, weak, "", nil, nil},
	{UrgencyOrThreat, `{right now|immediately|straight away|straightaway|as soon as possible|urgent|urgently|no time|before it is too late|within the hour|act now|today} ~4 bank|money|cash|account|withdraw|go|transfer|move`, weak, "", nil, nil},
	{UrgencyOrThreat, `{must|have to|need to|got to} ~4 {today|now|immediately|right away|this morning|this afternoon}`, weak, "", nil, nil},
	{UrgencyOrThreat, `{act now|act quickly|quickly please|every minute counts|no time to lose|before it is too late|as we speak|time is running out|before they take|time sensitive|immediate effect|with immediate effect|very second|last chance|final chance|expires today}`, weak, "", nil, nil},
	{CallbackTrick, `{hang up|put the phone down|end the call|put down the phone} ~4 call|ring|dial|phone ~4 {101|999|police|check}`, 0, "", nil, nil},
	{CallbackTrick, `call|ring|dial|phone ~2 {101|999|police station|the police} ~4 {check|verify|confirm|prove|make sure}`, 0, "", nil, nil},
	{CallbackTrick, `{stay on the line|hold the line|i will hold|i will stay|i will wait|keep the line open|do not hang up|do not put the phone down|i will still be here|stay on the phone|remain on the line|do not disconnect|do not end the call}`, 0, "", nil, nil},
	{CallbackTrick, `prove|check|verify|confirm ~3 {i am genuine|i am real|i am legitimate|i am really|i am who|who i am|who i say|we are genuine|we are real|this is genuine|this is real|this call is genuine|this call is real|it is really me|i am a real}`, 0, "", nil, nil},
	{DictatedNumber, `call|ring|dial|phone|contact|reach|text {me|us|back|our office|the office|my office|this number|the number|my direct line|my line|our line|our hotline|the hotline|the helpline|the department|our department|him|her} ~4 {on|at|number|line|extension|directly} ~3 #5`, 0, genuineAdvice, nil, nil},
	{DictatedNumber, `call|ring|dial [me|us] [on|at] #5`, 0, genuineAdvice, nil, nil},
	{DictatedNumber, `{number is|number it is|line is} #5`, weak, genuineAdvice, nil, nil},
	{DictatedNumber, `{my direct line|our direct line|direct line number|my number is|write this number|write down this number|write down the number|take down this number|write down my|my extension|extension number|callback number|call back number|my badge number|toll free number|hotline number|hotline to}`, 0, genuineAdvice, nil, nil},
	{DictatedNumber, `{reference number is|the number is|reference number}`, weak, genuineAdvice, nil, nil},
	{CallToAction, `press|push|dial ` + digitWord + ` ~6 {to speak|to talk|to be connected|to connect|to get connected|and you will be|and your call will be|to reach|to cancel|to stop|to proceed|now|right now|for more|for further|to qualify|to claim|to get|to receive|to continue|to resolve|to hear|to discuss|to know|to talk to|representative|officer|agent|department|operator|specialist|to take}`, 0, "", nil, nil},
	{CallToAction, `{just press|simply press|to connect now press|to connect press|to speak press|to talk press} ` + digitWord, 0, "", nil, nil},
	{CallToAction, `{to cancel|to stop|to speak|to talk|to connect|to get connected|to reach|to dispute|to report|to claim|to qualify|to block|to protect|to secure|to resolve} ~8 press ` + digitWord, 0, "", nil, nil},
	{CallToAction, `{help you|need to|have to|going to|let me|i will|we will|we need to} ~2 {secure|protect|safeguard|fix|unblock|unlock} {your account|your computer|your laptop|your money|your device|your bank account|the computer|your system}`, 0, "", nil, nil},
	{CallToAction, `{call|ring|phone|dial} ~2 {the number on your caller id|the number on your screen|the number on the screen|the number in the message|the number in the email|the number on the pop up|the number shown}`, 0, "", nil, nil},
	{CallToAction, `press ` + digitWord, weak, "", nil, nil},
	{CallToAction, `{to speak|to talk|to get connected|to connect|in order to connect|in order to speak|you may connect|you can connect|you can speak|please speak} ~4 {officer|agent|representative|department|specialist|advisor|adviser|technician|supervisor|case officer|legal department|cancellation team|refund team|billing team|support team|security team|fraud team}`, 0, "", nil, nil},
	{CallToAction, `{call|ring|phone|contact|reach|text} {us|me|our office|our department|our helpline|the hotline|our hotline|this number|the number|back} ~4 {back|directly|immediately|urgently|today|as soon as possible|at|on}`, 0, genuineAdvice, nil, nil},
	{CallToAction, `{return my call|return our call|return this call|give me a call back|give us a call back|give us a call|give me a call|call me back|call us back|call back}`, weak, genuineAdvice, nil, nil},
	{CallToAction, `{get|put|connect|transfer|bring} ~4 {specialist|specialists|agent|agents|advisor|adviser|representative|supervisor|manager|officer|technician|colleague} ~2 {on the line|on the phone}`, weak, "", nil, nil},
	{CallToAction, `{transfer you to|connect you to|connect you with|put you through to|transferring you to|connecting you to|connecting you with}`, weak, "", nil, nil},
	{CallToAction, `{grab a pen|grab a piece of paper|get a pen|get a piece of paper|have a pen|do you have a pen|pen and paper|piece of paper|write it down|write this down|write down}`, weak, "", nil, nil},

	// Codes, credentials and the computer.
	{RemoteAccess, `{anydesk|teamviewer|quick support|quicksupport|quick assist|remote access|remote desktop|remote control|remote support|remote session|screen share|screen sharing|share your screen|log me in|logmein|supremo|ultraviewer|rustdesk|ammyy|splashtop|connectwise|screenconnect|zoho assist}`, neg | never, "", nil, nil},
	{RemoteAccess, `{download|install|put on} ~4 app|application|program|programme|software|extension|tool|file`, neg | never, "", nil, nil},
	{RemoteAccess, `{access to|into|control of|connect to|connected to} ~4 computer|laptop|phone|tablet|ipad|pc|system|device|network|server`, neg | never, "", nil, nil},
	{RemoteAccess, `{log in|log into|login|log on|sign in|sign into} ~4 {online banking|banking|bank account|bank|banking app}`, neg | never, "", nil, nil},
	{RemoteAccess, `{in front of|sitting in front of|sitting at|near|go to|get to|turn on|switch on|open|open up|start} {your|the} {computer|laptop|pc|desktop|system|device|browser|google chrome|chrome|internet explorer|edge|firefox|safari}`, neg, "", nil, nil},
	{RemoteAccess, `{type|enter|go to|visit} ~3 {www|dot com|website|the link|this link|this address|the address}`, neg, "", nil, nil},
	{RemoteAccess, `{windows key|windows button|windows logo|windows icon|control key|ctrl key|start button|start key|type here to search|address bar|search bar|run box|command prompt|event viewer|refund form|cancellation form|online form|online cancellation form|form on your computer|support code|session code|connection code}`, neg, "", nil, nil},
	{RemoteAccess, `{make and model of|what do you see on|look at|on your computer|on the computer|your computer screen|on your screen|the screen of} ~2 {computer|laptop|screen|keyboard|desktop}`, neg, "", nil, nil},
	{RemoteAccess, `{open|open up|turn on|switch on} {google chrome|chrome|internet explorer|microsoft edge|firefox|safari|your browser|the browser|your email|your computer|your laptop}`, neg, "", nil, nil},
	{PersonalDetails, `{online banking password|banking password|password|passwords|passcode|1/one time code|1/one time passcode|1/one time password|otp|verification code|security code we sent|the code we sent|code we have sent|code that was sent|code we just sent|read me the code|read out the code|tell me the code|code on the screen|code on your screen|number it shows|code you received|code you have received|apple id password|email and password|username and password}`, neg | never, "", nil, nil},
	{PersonalDetails, `{give|tell|read|confirm|verify|provide|need|what is|share|shared} ~4 {social security number|email and password|wifi password|wi fi password|personal information|social security|ssn|bank details|banking details|bank account details|routing number|login details|card details|full card number|online banking details}`, neg | never, "", nil, nil},
	{PersonalDetails, `{date of birth|maiden name|security number|security questions|memorable word|memorable information|account number|sort code|national insurance|social security number|your address|your postcode|your zip code|your full name|verify your identity|confirm your identity}`, neg | weak, "", nil, nil},
}

// The compiled rules: every word they name, and for each word the ways a match may begin
// with it.
var (
	rulesVocab = vocab{ids: map[string]int32{}}
	startsAt   map[int32][]start // vocabulary id → the alternatives that begin with it
	startsAny  []start           // alternatives that may begin with any word (a number, a suffix)
	negatorSeq [][]int32         // negators as vocabulary ids
)

func init() {
	startsAt = map[int32][]start{}
	for i := range rulesTable {
		r := &rulesTable[i]
		p, err := compile(r.pat, &rulesVocab)
		if err != nil {
			panic(fmt.Sprintf("detect: rule %d (%s): %v", i, r.kind, err))
		}
		r.p = p
		p.index()
		if r.unless != "" {
			if r.u, err = compile(r.unless, &rulesVocab); err != nil {
				panic(fmt.Sprintf("detect: rule %d (%s): %v", i, r.kind, err))
			}
			r.u.index()
		}
		startsAny = append(startsAny, p.starts(i, startsAt)...)
	}
	for _, n := range negators {
		var seq []int32
		for _, w := range strings.Fields(n) {
			seq = append(seq, rulesVocab.id(w))
		}
		negatorSeq = append(negatorSeq, seq)
	}
}

// MinorWord says whether w is one of the small words (the, to, of…) a phrase still matches
// without.
func MinorWord(w string) bool { return minorWords[w] }

// RuleWords lists, sorted, the words the rules name that carry meaning: not the small
// words (see minorWords) and not numbers.
func RuleWords() []string {
	var out []string
	for _, w := range rulesVocab.words {
		if !minorWords[w] && !isDigits(w) {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}
