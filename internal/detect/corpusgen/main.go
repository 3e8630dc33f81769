// Command corpusgen writes clearline's labelled corpus of telephone calls for the scam
// detector: scam scripts drawn from what police, Action Fraud and UK banks publish about
// courier fraud, bank impersonation and "safe account" scams, and ordinary calls that use the
// same words innocently. Every line of speech has several wordings; a share of the wordings,
// names and amounts is kept for the dev split only, so the dev figures measure paraphrase the
// model never saw. Text is then roughened as a speech recogniser would: lowercase, no
// punctuation, numbers as words, split and misheard words.
//
//	go run ./internal/detect/corpusgen -out testdata/detect
//
// The output is deterministic (fixed seed), so the committed corpus can be checked.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type line struct {
	Call    string  `json:"call"`
	Speaker string  `json:"speaker"`
	Text    string  `json:"text"`
	T       float64 `json:"t"`
	Label   string  `json:"label"`
	Type    string  `json:"type"`
}

// beat is one turn: who speaks, the ways it can be said, and how often it happens.
type beat struct {
	speaker  string
	p        float64 // probability the beat occurs (0 means always)
	variants []string
}

type script struct {
	name  string
	scam  bool
	beats []beat
}

func c(vs ...string) beat              { return beat{speaker: "caller", variants: vs} }
func r(vs ...string) beat              { return beat{speaker: "resident", variants: vs} }
func maybe(p float64, b beat) beat     { b.p = p; return b }
func opt(p float64, vs ...string) beat { return beat{speaker: "caller", p: p, variants: vs} }

// fill values: the last third of each list is dev-only.
var fills = map[string][]string{
	"officer":  {"Detective Sergeant Miller", "DC James Walker", "Detective Constable Hughes", "Sergeant Paul Davies", "Inspector Clarke", "DS Robert Hill", "Detective Inspector Shaw", "PC Daniel Wright", "Detective Sergeant Anna Kowalski"},
	"force":    {"Metropolitan Police", "Hampshire Police", "Thames Valley Police", "Kent Police", "Sussex Police", "Surrey Police", "West Midlands Police", "Devon and Cornwall Police", "Greater Manchester Police"},
	"bank":     {"Barclays", "Lloyds", "NatWest", "HSBC", "Santander", "Nationwide", "Halifax", "the Co-operative Bank", "TSB"},
	"amount":   {"two thousand pounds", "five thousand pounds", "three thousand five hundred pounds", "four thousand pounds", "nine thousand pounds", "six thousand pounds", "eight thousand pounds", "seven thousand five hundred", "ten thousand pounds"},
	"number":   {"0 2 0 7 9 4 6 0 1 2 3", "oh seven seven oh oh nine double oh one two three", "0 1 6 3 2 9 6 0 4 5 6", "oh two oh three one three three two two two", "0 8 0 0 0 4 6 1 2 3 4", "oh one one three four nine six oh oh oh one"},
	"relative": {"your grandson", "your son", "your daughter", "your granddaughter", "your nephew", "your sister"},
	"town":     {"Winchester", "Basingstoke", "Andover", "Romsey", "Eastleigh", "Petersfield", "Alton", "Fareham", "Havant"},
	"item":     {"gold bars", "a Rolex watch", "gold coins", "a gold watch", "gift cards", "jewellery", "Apple gift cards", "bitcoin", "gold bullion"},
	"name":     {"Margaret", "Mrs Thompson", "Jean", "Mr Patel", "Dorothy", "Mrs Evans", "Arthur", "Mrs Green", "Brian"},
	"shop":     {"Tesco", "Amazon", "Currys", "Argos", "John Lewis", "Boots", "eBay", "Sainsburys", "Marks and Spencer"},
}

var scripts = []script{
	{"police_courier", true, []beat{
		c("Hello, is that {name}? This is {officer} from {force}.", "Good afternoon {name}, my name is {officer}, I'm calling from {force}.", "Hello {name}, {officer} speaking, {force} fraud squad.", "Hi, it's {officer} from {force}, is this {name}?", "This is {officer}, {force}, I need to speak to {name} please."),
		r("Yes, speaking.", "Oh, hello. Is something wrong?", "Yes that's me, what's happened?", "Police? Oh dear."),
		c("We have arrested a man who had your bank card details on him.", "We've detained two people in {town} and one of them had your card and your address.", "We are investigating a fraud at your bank branch and your account is involved.", "Someone has been using your bank account and we believe staff at your branch are involved.", "We caught a gang using cards in your name at {shop}."),
		opt(0.7, "To prove I'm genuine, hang up and ring 101 and ask for me, I'll stay on the line.", "You can check I'm real, just put the phone down and call 999, I will hold.", "If you want to verify who I am, call the police on 101 now, don't worry I'll wait on the line.", "Ring 101 to confirm I am who I say I am, I'll keep the line open for you.", "Please call the number on the back of your card to check, I'll stay on the line while you do."),
		r("Alright, I'll do that.", "Oh, okay, let me ring them.", "Is that necessary?"),
		c("We believe the cashiers at your branch are involved so you mustn't tell them anything.", "Do not tell anyone at the bank why you're withdrawing the money, the staff are under investigation.", "This is a confidential investigation, please don't discuss it with your family or the bank.", "If the cashier asks, say the money is for building work at home.", "Keep this between us, someone at the bank is working with the criminals."),
		c("We need you to go to your bank and withdraw {amount} in cash.", "I need you to draw out {amount} from the branch so we can check the notes for fingerprints.", "Could you take out {amount} in cash today, it's needed as evidence.", "We'd like you to withdraw {amount} so we can see if the cashier gives you counterfeit notes.", "Go down to the bank this morning and get out {amount} in cash for the investigation."),
		r("That's a lot of money.", "Why do I need to do that?", "Will I get it back?", "Alright, if it helps."),
		maybe(0.8, c("A courier will come to your house to collect the money.", "We'll send an officer round to pick up the cash this afternoon.", "One of my colleagues will come and collect it from you, put it in an envelope.", "A driver will call round to take the money away as evidence.", "Seal the cash in an envelope and hand it to our courier when he arrives.")),
		maybe(0.6, c("You need to do this right now or the money in your account will be lost.", "If you don't cooperate you could be arrested for obstructing the investigation.", "This is urgent, you must go today before the branch closes.", "We have to act immediately before the criminals empty your account.", "You could face charges if you tell anyone about this.")),
		maybe(0.5, c("My direct line is {number}, call me back on that.", "Write this number down, {number}, and ring me when you have the money.", "Take down my number {number}.", "If we get cut off call me on {number}.")),
	}},
	{"bank_safe_account", true, []beat{
		c("Hello, this is the fraud department at {bank}.", "Good morning, I'm calling from {bank} security team about your account.", "Hello {name}, it's James from the {bank} fraud prevention team.", "This is {bank} financial crime unit, we've noticed suspicious activity.", "Hi, I'm calling from your bank's fraud investigation department."),
		r("Oh, what's happened?", "Is my money alright?", "Yes, go on.", "Which bank did you say?"),
		c("Your account has been compromised and someone is trying to take money out.", "We have seen payments to {shop} you didn't make, your account has been hacked.", "Criminals have accessed your online banking and your savings are at risk.", "There is a fraudster inside the bank who has access to your account.", "Your account details have been stolen and are being used right now."),
		c("We need to move your money to a safe account while we investigate.", "To protect your savings you need to transfer them to a secure account we've set up.", "I'll give you the details of a new account, you must move the balance into it today.", "Transfer {amount} to our holding account so it can't be stolen.", "Move all your money into the safe account and we'll return it when the investigation is finished."),
		r("How do I do that?", "Is that safe?", "I don't really understand the internet banking.", "Right, okay."),
		maybe(0.6, c("Can you read me the code we just sent to your phone?", "I need your online banking password to secure the account.", "Please confirm your account number and sort code.", "Tell me the one time passcode you've received.", "What's your memorable word so I can verify you?")),
		maybe(0.7, c("Don't tell the branch staff, some of them are under investigation.", "If the bank asks why you're moving money, say it's for a new car.", "Please keep this confidential, don't mention it to your family.", "Do not speak to anyone at the bank about this call.")),
		maybe(0.6, c("You need to do this immediately or you'll lose everything.", "It's urgent, the money could be gone within the hour.", "Act now please, every minute counts.", "You must do it today or the bank can't guarantee your money.")),
		maybe(0.5, c("Call me back on {number} when it's done.", "My extension is {number}.", "If we get disconnected, ring {number}.")),
		maybe(0.4, c("Hang up and call the number on the back of your card to check, I'll hold.", "Ring the bank on 101, I'll stay on the line, it proves I'm genuine.", "Don't put the phone down, stay on the line with me.")),
	}},
	{"card_courier", true, []beat{
		c("Hello, this is {officer} from {force}, we're working with {bank}.", "Hello, {bank} card security here.", "I'm calling from the {bank} fraud team about your debit card.", "This is {officer}, fraud investigations, is that {name}?", "Hello {name}, this is the card services department at {bank}."),
		r("Yes?", "What's wrong with my card?", "Oh goodness."),
		c("Your card has been cloned and used in {town}.", "Someone has copied your bank card and is spending on it.", "We've stopped several fraudulent payments on your card today.", "Your debit card was used at {shop} this morning, we think it's been copied."),
		c("To cancel it I need you to confirm your PIN number.", "Can you tap your PIN into the phone so we can verify it?", "Please read me the long number on the front of your card and the three digits on the back.", "I need the security code on the back and the expiry date.", "Tell me your four digit PIN and we'll block the card."),
		r("I thought I shouldn't give my PIN out.", "Is that alright to give you?", "One two three... hold on.", "Okay."),
		c("Cut the card in half but don't cut through the chip.", "Put your card in an envelope, we'll send a courier to collect it.", "A courier will come to your house to pick up the card for forensic checks.", "Hand the card to our driver, he'll be with you within the hour.", "One of our officers will come round and collect your cards."),
		maybe(0.6, c("Don't tell anyone about this, it's an ongoing investigation.", "Please keep this confidential.", "Don't mention this to the staff at your branch.")),
		maybe(0.5, c("This needs to happen now before more money goes.", "If we don't act right away you'll lose your savings.", "It's urgent, the courier is already on his way.")),
		maybe(0.4, c("Ring 101 to check I'm genuine, I'll stay on the line.", "Call the number on your card to verify, I won't hang up.")),
	}},
	{"purchase_courier", true, []beat{
		c("Hello {name}, this is {officer} from {force}.", "Good morning, {officer}, {force}, I'm leading an undercover operation.", "Hello, it's {officer}, we need your help with an investigation.", "This is {officer} from the {force} economic crime unit."),
		r("Hello, how can I help?", "An investigation? What's it about?", "Oh dear, is everything alright?"),
		c("We're investigating a jeweller in {town} who is selling fakes and we need your help.", "A shop in {town} is laundering money and we need someone to make a purchase.", "We need a member of the public to help us catch a gang operating in {town}.", "We're running an operation against a dealer who cheats pensioners."),
		c("We need you to buy {item} with your own money and we'll reimburse you.", "Could you go to the shop and purchase {item} for about {amount}?", "I'd like you to buy {item}, keep the receipt.", "Please get {item}, it will be used as evidence."),
		r("I'm not sure about this.", "Will I get the money back?", "Okay, if it helps the police."),
		c("Then hand it to our officer who will come to collect it.", "A courier will pick up the {item} from your house.", "We'll send a colleague round to take it away for evidence.", "Put it in a bag and give it to the officer when he calls round."),
		maybe(0.7, c("This operation is covert, don't tell anyone, not even your family.", "Please keep it secret, the shop staff mustn't know.", "Don't mention the police if they ask, say it's a present for your grandson.", "It's confidential, nobody else can know.")),
		maybe(0.5, c("It has to be today, the shop closes at five.", "We need you to go immediately.", "If you refuse you could be charged with obstructing a police investigation.")),
		maybe(0.5, c("Write down my number, {number}.", "Call me on {number} when you've got it.")),
	}},
	{"remote_access", true, []beat{
		c("Hello, this is the {bank} security team, we've detected hackers on your computer.", "I'm calling from {bank} fraud department, your online banking has been accessed from abroad.", "Hello {name}, this is {bank}, we need to secure your online banking.", "This is the technical department at {bank}, your account has been compromised."),
		r("Oh no, what do I do?", "I did get a strange email.", "Is my money safe?", "Okay..."),
		c("I need you to download an app called AnyDesk so I can check your computer.", "Please install TeamViewer and give me the code on the screen.", "Go to your computer and download the quick support program.", "I'll need remote access to your laptop to remove the hackers.", "Let me have control of your computer for a few minutes."),
		r("How do I do that?", "My computer is quite old.", "Right, it's downloading."),
		c("Now log into your online banking and I'll move your money to a secure account.", "Now log in to your bank and read me the code we sent.", "Tell me the verification code that was sent to your phone.", "Log into your banking, I'll transfer your savings to a safe account.", "Enter your password and I'll do the rest."),
		maybe(0.6, c("Don't talk to anyone at the bank, they may be involved.", "Keep this confidential please.", "Don't hang up and don't tell your family.")),
		maybe(0.6, c("We have to do this now or you'll lose everything.", "It's urgent, they are taking money as we speak.", "Quickly please, act now.")),
	}},
	{"bank_genuine_check", false, []beat{
		c("Hello, this is {bank} calling about a recent card payment.", "Good afternoon, it's the {bank} card services team, we've spotted an unusual payment.", "Hi {name}, I'm calling from {bank} to check a transaction on your card.", "Hello, this is an automated call from {bank} fraud prevention.", "Hello, {bank} here, can I just check a payment with you?"),
		r("Oh, okay.", "Yes, what payment?", "How do I know you're the bank?"),
		maybe(0.6, c("Before we go on, can you confirm your date of birth and postcode?", "For security could you confirm the first line of your address?", "Can I take your full name and date of birth please?")),
		c("Did you make a payment of forty two pounds to {shop} yesterday?", "There's a transaction of one hundred and twenty pounds at {shop}, was that you?", "We've seen a payment of sixty pounds online at {shop}, can you confirm it?", "Was the payment to {shop} for eighteen pounds ninety nine made by you?"),
		r("Yes, that was me, I bought a present.", "Yes, that was my shopping.", "Oh yes, I did that."),
		c("Thank you, that's all fine then, your card will keep working as normal.", "Lovely, we'll mark that as genuine.", "Great, nothing else to do, have a good day.", "Thanks, I've confirmed it, you don't need to do anything."),
		maybe(0.6, c("Just so you know, we will never ask for your PIN or ask you to move money to a safe account.", "Remember the bank will never send a courier to collect your card or ask you to withdraw cash.", "If you're ever unsure, hang up and call the number on the back of your card from another phone.", "We'll never ask you for your full PIN or your online banking password.")),
	}},
	{"bank_fraud_genuine", false, []beat{
		c("Hello, this is the fraud team at {bank}, we've blocked your card as a precaution.", "Good morning, I'm calling from {bank} fraud prevention about some transactions.", "Hello {name}, this is {bank}, our fraud department flagged a payment.", "It's {bank} security here, we've stopped a suspicious transaction."),
		r("Oh dear, what's happened?", "Right, okay.", "Is my account alright?"),
		c("Someone tried to spend two hundred pounds at {shop} online and we declined it.", "We've seen an attempted payment abroad which we stopped.", "A payment to {shop} looked unusual so we held it.", "There were two attempts to use your card online, both declined."),
		r("That wasn't me.", "I didn't buy anything from there.", "No, that's not mine."),
		c("No problem, we'll cancel that card and post you a new one, it will arrive in five working days.", "We'll send you a replacement card in the post and your PIN separately.", "Your money is safe, you won't lose anything, a new card is on its way by post.", "We'll refund anything taken and send a new card to your home address by post."),
		maybe(0.7, c("We will never ask you to move money, or to give your PIN, or send anyone to collect your card.", "Please be aware that criminals may call pretending to be us, we will never ask you to transfer money to a safe account.", "If anyone calls asking for your PIN, it's not us, hang up.", "Never hand your card to anyone who comes to the door.")),
		maybe(0.5, c("If you want to check this call, please ring the number on the back of your card from a different phone.", "You can call us back on the number on your statement.", "You can check by calling the number printed on your card.")),
	}},
	{"neighbourhood_police", false, []beat{
		c("Hello, it's PC Sarah Jones, your neighbourhood police officer for {town}.", "Good morning, this is {officer} from the {force} neighbourhood team.", "Hello {name}, I'm calling from {force} about the community meeting.", "Hi, it's the {town} safer neighbourhood team from {force}."),
		r("Oh hello.", "Is everything alright?", "Yes, hello."),
		c("We're holding a community meeting at the village hall on Thursday evening.", "We're running a crime prevention talk at the library next week.", "There's a coffee morning at the community centre where you can meet the local officers.", "We're visiting residents about a spate of shed burglaries in {town}."),
		r("Oh that sounds useful.", "What time is it?", "I might come along."),
		maybe(0.7, c("We'll be talking about scams, remember the police will never ask you to withdraw cash or hand over your bank card.", "We'll give advice on courier fraud, never give your PIN to anyone, and never hand money to a courier.", "Please tell your friends: if someone says they're the police and asks for money, hang up.", "Our advice is never to let anyone collect cash or cards from your home.")),
		c("It starts at seven, tea and biscuits provided.", "Do come along, bring a neighbour.", "Thanks for your time, take care.", "It would be lovely to see you there."),
	}},
	{"police_followup", false, []beat{
		c("Hello, this is {officer} from {force} about the burglary you reported.", "Good afternoon {name}, I'm calling from {force} about your stolen car report.", "Hello, it's {officer}, I'm following up the break in at your shed.", "Hello {name}, {force} here, calling about the incident you reported last week."),
		r("Oh yes, thank you for calling.", "Have you found anything?", "Yes, hello."),
		c("Your crime reference number is four four seven two one, please keep that for your insurance.", "We've recovered some of the tools and will return them.", "An officer will come round to take a statement on Tuesday at ten.", "We've checked the CCTV and are following a lead."),
		r("That's good news.", "Thank you.", "What should I do with the reference?"),
		maybe(0.7, c("If you have any more information call 101 and quote the reference.", "You can contact us on 101 with the reference number.", "If you remember anything else ring 101 quoting that reference.", "If anything happens again call 999 straight away.")),
		c("Thanks for your help, take care.", "That's everything for now.", "Have a good day."),
	}},
	{"gp_surgery", false, []beat{
		c("Hello, it's the surgery calling, is that {name}?", "Good morning, this is the reception at the medical centre.", "Hi {name}, it's the GP practice about your appointment.", "Hello, it's the pharmacy about your prescription."),
		r("Yes, speaking.", "Oh hello.", "Yes that's me."),
		c("Can you confirm your date of birth please?", "Could I just check your date of birth and postcode?", "For security can I take your date of birth?"),
		r("Yes, it's the twelfth of May nineteen forty two.", "Fourth of April, nineteen thirty nine.", "Second of June nineteen forty five."),
		c("The doctor would like to see you for your blood test results on Monday at ten.", "Your prescription is ready to collect from the pharmacy.", "We need to rebook your flu jab for next Wednesday.", "The nurse wants to check your blood pressure next week."),
		maybe(0.5, c("Take two tablets a day with food, five hundred milligrams.", "Remember to bring your repeat prescription slip.", "The collection is from the pharmacy counter.")),
		c("Thank you, see you then.", "Bye now.", "Lovely, that's all booked."),
	}},
	{"grandchild", false, []beat{
		c("Hi Nan, it's me, how are you?", "Hello Grandad, it's Tom.", "Hi Gran, just calling for a chat.", "Hello Mum, it's me."),
		r("Oh hello love, lovely to hear from you.", "I'm fine thank you dear.", "Hello sweetheart."),
		c("I'm coming round on Saturday, do you need anything from the shops?", "We're thinking of taking you out for lunch on Sunday.", "Did you get the photos I sent?", "How was the doctor's yesterday?"),
		r("I need to go to the bank and take out some cash for the window cleaner.", "Could you take me to the post office to get my pension?", "I'll withdraw some money for the grandchildren's birthday cards.", "I'm going to the bank tomorrow to pay in a cheque."),
		maybe(0.6, c("Don't tell Mum but I've booked a surprise party for her birthday.", "Keep it a secret, it's a surprise for Dad.", "Don't mention the present to Grandad.")),
		c("Love you, see you Saturday.", "Alright, speak soon, bye.", "Take care, bye bye."),
	}},
	{"delivery", false, []beat{
		c("Hello, it's your delivery driver from the parcel company.", "Hi, this is the courier with your parcel from {shop}.", "Hello, I'm calling from the delivery company about your order.", "Hi, courier here, I've got a parcel for you."),
		r("Oh yes, I'm expecting something.", "Hello.", "What time will you come?"),
		c("I'll be with you between two and four this afternoon.", "The courier will deliver your parcel tomorrow morning.", "Can I leave it with a neighbour if you're out?", "I'm outside now, could you come to the door?"),
		r("I'll be in.", "Yes, next door is fine.", "Okay, coming now."),
		maybe(0.5, c("You'll need to sign for it.", "There's nothing to pay, it's all paid for.", "Can I leave it in a safe place by the back door?")),
		c("Thanks, have a good day.", "Cheers, bye.", "Great, see you soon."),
	}},
	{"friend_money", false, []beat{
		c("Hello {name}, it's Betty from church.", "Hi, it's Pat next door.", "Hello love, it's Joan from the bridge club.", "Hi, it's Sue, how are you keeping?"),
		r("Oh hello, how are you?", "Hello dear."),
		c("We're collecting money for Margaret's leaving present, would you like to put in a few pounds?", "I'm going into town tomorrow, I can take you to the bank if you need cash.", "Could you lend me twenty pounds until my pension comes on Thursday?", "We're doing a raffle for the hospice, tickets are a pound each."),
		r("Of course, I'll get some cash out.", "Yes, I'll give you the money on Sunday.", "I'll need to go to the cashpoint first."),
		maybe(0.6, c("Don't tell Margaret, it's a surprise.", "Keep it quiet, it's a secret for her birthday.", "Don't say anything to Jim, he'll want to pay for it all.")),
		c("Lovely, see you Sunday.", "Thanks ever so much, bye.", "Take care, bye for now."),
	}},
}

// fillKeys and familyFillKeys are the fills' keys in a fixed order, so the random draws are
// repeatable.
var (
	fillKeys       = sortedKeys(fills)
	familyFillKeys = sortedKeys(familyFills)
)

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// allScripts is every script in the order they are drawn: the courier and bank scripts the
// corpus started with, then the families (families.go).
var allScripts = append(scripts[:len(scripts):len(scripts)], families...)

var isFamily = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range families {
		m[s.name] = true
	}
	return m
}()

// mishears are what recognisers do to words; the last third are dev-only.
var mishears = [][2]string{
	{"withdraw", "with draw"}, {"courier", "currier"}, {"cashier", "cash here"}, {"account", "a count"},
	{"sergeant", "sargent"}, {"anydesk", "any desk"}, {"metropolitan", "metro politan"}, {"constable", "con stable"},
	{"detective", "detect of"}, {"pin", "pen"}, {"teamviewer", "team viewer"}, {"envelope", "envelop"},
	{"confidential", "confidentially"}, {"evidence", "evidences"}, {"investigation", "investigate shun"},
	{"immediately", "immediate"},
	{"microsoft", "micro soft"}, {"amazon", "amazing"}, {"warrant", "war and"}, {"refund", "re fund"},
	{"bitcoin", "bit coin"}, {"disconnected", "disconnect it"}, {"arrested", "a rested"}, {"suspended", "suspend it"},
	{"computer", "compute her"},
}

var digitWords = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

func main() {
	out := flag.String("out", "testdata/detect", "directory for train.jsonl and dev.jsonl")
	perType := flag.Int("calls", 60, "calls per script type in train; dev gets a third as many")
	flag.Parse()
	if err := generate(*out, *perType); err != nil {
		fmt.Fprintln(os.Stderr, "corpusgen:", err)
		os.Exit(1)
	}
}

// generate writes train.jsonl and dev.jsonl into dir.
func generate(dir string, perType int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, split := range []struct {
		name string
		dev  bool
		n    int
		seed uint64
	}{{"train", false, perType, 1}, {"dev", true, perType / 3, 2}} {
		rng := rand.New(rand.NewPCG(split.seed, 2026))
		var b strings.Builder
		enc := json.NewEncoder(&b)
		for _, s := range allScripts {
			for i := range split.n {
				id := fmt.Sprintf("%s-%s-%03d", split.name, s.name, i)
				for _, l := range render(rng, s, id, split.dev) {
					if err := enc.Encode(l); err != nil {
						return err
					}
				}
			}
		}
		path := filepath.Join(dir, split.name+".jsonl")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "corpusgen: wrote %s\n", path)
	}
	return nil
}

// pick chooses among the variants a split may use: train never sees the last third.
func pick[T any](rng *rand.Rand, vs []T, dev bool) T {
	held := len(vs) / 3
	if len(vs) < 3 {
		held = 0
	}
	if dev && held > 0 && rng.IntN(2) == 0 {
		return vs[len(vs)-held+rng.IntN(held)]
	}
	return vs[rng.IntN(len(vs)-held)]
}

func render(rng *rand.Rand, s script, id string, dev bool) []line {
	label := "ok"
	if s.scam {
		label = "scam"
	}
	vals := map[string]string{}
	for _, k := range fillKeys {
		vals[k] = pick(rng, fills[k], dev)
	}
	if isFamily[s.name] {
		for _, k := range familyFillKeys {
			vals[k] = pick(rng, familyFills[k], dev)
		}
	}
	var out []line
	t := 0.5 + rng.Float64()
	for _, b := range s.beats {
		if b.p > 0 && rng.Float64() >= b.p {
			continue
		}
		text := pick(rng, b.variants, dev)
		for k, v := range vals {
			text = strings.ReplaceAll(text, "{"+k+"}", v)
		}
		for _, seg := range splitSegment(rng, asr(rng, text, dev)) {
			out = append(out, line{Call: id, Speaker: b.speaker, Text: seg, T: round1(t), Label: label, Type: s.name})
			t += 1 + float64(len(strings.Fields(seg)))*0.35 + rng.Float64()
		}
	}
	return out
}

func round1(v float64) float64 { return float64(int(v*10)) / 10 }

// asr roughens text as a speech recogniser would.
func asr(rng *rand.Rand, text string, dev bool) string {
	text = strings.ToLower(text)
	text = strings.Map(func(r rune) rune {
		if strings.ContainsRune(".,?!;:\"", r) {
			return -1
		}
		if r == '-' {
			return ' '
		}
		return r
	}, text)
	words := strings.Fields(text)
	var out []string
	for _, w := range words {
		w = strings.ReplaceAll(w, "'", "")
		// digits are spoken
		if len(w) == 1 && w[0] >= '0' && w[0] <= '9' {
			out = append(out, digitWords[w[0]-'0'])
			continue
		}
		if rng.Float64() < 0.25 {
			for _, m := range mishears {
				if w == m[0] {
					w = pick(rng, []string{m[1], m[1], w}, dev)
					break
				}
			}
		}
		if rng.Float64() < 0.03 {
			continue // a dropped word
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// splitSegment sometimes cuts a turn in two, as recognisers do at pauses.
func splitSegment(rng *rand.Rand, text string) []string {
	words := strings.Fields(text)
	if len(words) < 8 || rng.Float64() > 0.3 {
		return []string{text}
	}
	cut := 3 + rng.IntN(len(words)-5)
	return []string{strings.Join(words[:cut], " "), strings.Join(words[cut:], " ")}
}
