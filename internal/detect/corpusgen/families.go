package main

// The scam families real callers use every day beyond the courier script, written from what
// Action Fraud, UK Finance, Ofcom and the FTC publish about them (government and legal
// threats, order and account alerts, tech support and refunds, utility cut-offs, card rate
// reduction, family emergencies, investment, parcel fees, prizes), each beside the genuine
// calls that sound like it: a bank's automated payment check, HMRC calling back about a
// letter, a support line the person rang, a shop about a real order, the energy supplier, a
// relative with bad news.

// familyFills are the values the families draw on; the last third of each list is dev-only.
var familyFills = map[string][]string{
	"company":   {"Amazon", "Microsoft", "Apple", "PayPal", "BT", "Norton", "Virgin Media", "eBay", "Netflix"},
	"gadget":    {"an iPhone 15 Pro", "a MacBook Pro", "a PlayStation 5", "a Samsung television", "AirPods Pro", "a Dell laptop", "an Xbox", "an iPad Air", "a Google Pixel phone"},
	"price":     {"nine hundred and ninety nine dollars", "seven hundred and forty nine pounds", "four hundred and ninety nine dollars", "three hundred and ninety nine pounds", "twelve hundred dollars", "two hundred and ninety nine pounds", "one thousand four hundred dollars", "five hundred and nine pounds", "eight hundred and fifty dollars"},
	"agency":    {"HMRC", "the Social Security Administration", "HM Revenue and Customs", "the Department for Work and Pensions", "US Customs and Border Protection", "the legal department", "the Home Office", "the Internal Revenue Service", "the tax office"},
	"utility":   {"British Gas", "the electric company", "EDF", "Octopus Energy", "Scottish Power", "your power company", "E.ON", "the water board", "OVO"},
	"payment":   {"Google Play gift cards", "Amazon gift cards", "Apple gift cards", "bitcoin", "a Western Union transfer", "Steam cards", "iTunes vouchers", "a MoneyGram transfer", "cryptocurrency"},
	"relname":   {"Jack", "Tom", "Sophie", "Daniel", "Emily", "Ben", "Chloe", "Harry", "Lucy"},
	"deliverer": {"Royal Mail", "DHL", "Evri", "DPD", "UPS", "Parcelforce", "FedEx", "Hermes", "Yodel"},
	"agent":     {"Officer Michael Brown", "Agent Steve Martin", "Officer Daniel Cooper", "John Smith", "Officer James Miller", "David Wilson", "Officer Kevin Lewis", "Mark Johnson", "Officer Ryan Taylor"},
	"isp":       {"BT", "Virgin Media", "Sky", "TalkTalk", "Plusnet", "Vodafone", "EE", "Shell Energy", "NOW Broadband"},
	"store":     {"John Lewis", "Currys", "Argos", "Dunelm", "Marks and Spencer", "Next", "AO dot com", "Wickes", "B and Q"},
	"item2":     {"a washing machine", "a new fridge", "a sofa", "a television", "a bed frame", "a dishwasher", "a garden table", "a microwave", "a lawnmower"},
}

var families = []script{
	{"gov_threat", true, []beat{
		c("This is an important message from {agency} regarding a legal case filed against your name.", "Hello, this is {agent} from {agency}, we have suspended your national insurance number due to suspicious activity.", "This call is from the legal department of {agency}, a lawsuit is being filed against you for tax fraud.", "Good afternoon, I am calling from {agency} about unpaid tax of {amount} under your name.", "Hello, this is the {agency} enforcement team calling about your social security number.", "This is {agent}, a federal agent with {agency}, calling about criminal activity linked to your name."),
		r("What? I haven't done anything.", "Oh my goodness, what do I do?", "How much do I owe?", "Are you sure this is right?"),
		c("An arrest warrant has been issued and local police will come to your house within the hour.", "If you ignore this call you will be taken into custody and your assets will be frozen.", "Your bank accounts will be frozen and you will face prosecution.", "You will be arrested today unless the matter is settled.", "This is your final notice before the case goes to the magistrates court.", "Your benefits will be suspended permanently and a warrant issued."),
		c("To speak to the case officer press one now.", "Press one to be connected to the investigation officer.", "Do not hang up, I will transfer you to the senior officer.", "Call us back immediately on {number} to resolve this matter.", "Stay on the line while I connect you to the legal department.", "Press one and you will be connected to the concerned department."),
		maybe(0.8, c("To stop the warrant you must pay the outstanding amount today in {payment}.", "You need to settle the amount of {amount} with {payment} right now.", "Go to the shop, buy {payment} and read me the codes on the back.", "The fine can only be paid by {payment} to a government secure account.", "Pay a release fee of {amount} and the case will be closed.", "Give me your bank details so the penalty can be taken today.")),
		r("I'll have to go to the shop.", "Can I pay by cheque?", "Alright, I'll do it."),
		maybe(0.6, c("Do not tell anyone at the shop what the cards are for.", "This is a confidential case, do not discuss it with your family.", "If the cashier asks, say the cards are a present for your grandson.", "Do not speak to your bank about this, they are part of the investigation.")),
		maybe(0.5, c("This is time sensitive, you must act immediately.", "You have one hour to settle this.", "Every minute you wait makes it worse.")),
		maybe(0.4, c("My badge number is four seven two one.", "Write down your case reference number, it's {number}.", "My direct line is {number}.")),
	}},
	{"retail_order_alert", true, []beat{
		c("Hello, this is {company} customer service calling about an order on your account.", "This call is from {company}, there is a pre authorised order of {gadget} for {price} on your account.", "Hi, we're calling from the {company} security department about a purchase of {gadget}.", "Thank you for choosing {company}, this call is regarding your purchase of {gadget} for {price}.", "Hello, this is the fraud team at {company}, someone has ordered {gadget} using your account.", "This is an automated call from {company} about a suspicious order on your account."),
		c("If you did not authorise this order, press one to speak to a representative.", "We've noticed unusual activity from four different devices on your account.", "This order will be charged to your card within twenty four hours.", "Was this you? If not, press one to cancel the order.", "The payment of {price} will be deducted from your account today.", "Someone has logged in to your account from another country."),
		maybe(0.7, c("Press one now to cancel the order.", "To stop the charge press one and you will be connected to our fraud team.", "Please stay on the line to be connected to an agent.", "Call us back on {number} to cancel the transaction.", "Press one to speak to one of our customer care executives.")),
		r("No, I didn't order that.", "I don't even have an iPhone.", "Oh, please cancel it.", "That wasn't me."),
		c("To cancel it I need remote access to your computer, please download AnyDesk.", "Can you confirm the card number on your account so I can stop the payment?", "I'll need your online banking password to process the refund.", "Please go to your computer, open Chrome and type in the website I give you.", "To refund you we need you to buy {payment} and give us the numbers.", "Read me the code we have just sent to your phone to cancel the order."),
		maybe(0.5, c("Don't tell your bank, they will freeze your account.", "Keep this confidential, the hackers may be listening.", "Do not hang up or the order will go through.")),
		maybe(0.5, c("We must do this now before the order is shipped.", "You have thirty minutes before the money is taken.", "This needs to be done immediately.")),
	}},
	{"account_breach", true, []beat{
		c("This is {company} technical support, your IP address has been compromised.", "Hello, I'm calling from {company}, your internet will be disconnected in the next twenty four hours.", "This is an automated message from {company} support, your iCloud account has been breached.", "Hello, this is the {company} security team, hackers have accessed your router.", "Hi, I'm calling from the {company} technical department about your computer.", "This is {company}, we've had warnings from your computer that it is infected."),
		c("We have detected a virus sending your bank details to criminals abroad.", "Your computer is infected with malware and your personal information is at risk.", "Someone is trying to use your account from another country.", "Hackers are using your internet connection for illegal activity.", "Your security licence has expired and your computer has been blocked."),
		maybe(0.7, c("Press one to speak to a technician now.", "Are you sitting in front of your computer right now?", "Please turn on your computer and I'll guide you through it.", "Do not use your computer until you have spoken to our engineer, press one.")),
		r("Yes, I'm at the computer.", "I'm not very good with computers.", "What do I need to do?", "Oh no, is my money safe?"),
		c("Press the windows key and the letter R together and type what I say.", "Download TeamViewer so our technician can fix it remotely.", "Go to the website and enter the support code on your screen.", "Give me control of your computer and I'll remove the hackers.", "Install the security software I'm sending you, it's called Quick Support.", "Open Google Chrome and type the address I give you in the address bar."),
		maybe(0.6, c("There is a fee of {amount} for the security certificate, you can pay with {payment}.", "Now log into your online banking so I can check the hackers have not taken money.", "Read me the code your bank just sent you.", "The protection plan costs {price}, I just need your card details.")),
		maybe(0.4, c("Don't turn off your computer or you will lose everything.", "You must not tell anyone, the hackers could be your neighbours.", "We have to do this right now.")),
	}},
	{"refund_scam", true, []beat{
		c("Hello, this is {company} calling about your subscription, it has been auto renewed for {price}.", "This is the {company} refund department, you are entitled to a refund of {price}.", "Hi, I'm calling from {company}, your computer protection plan is closing down and we owe you a refund.", "Thank you for calling the cancellation department of {company}, how can I help?", "Hello, this is {company} billing, we charged your account {price} by mistake.", "This is {company} support, you are due a refund for your old service contract."),
		r("I don't remember signing up for that.", "Oh, a refund? How do I get it?", "I want to cancel it.", "I didn't agree to any renewal."),
		c("To process the refund, are you in front of your computer?", "Open Google Chrome and type the address I give you.", "Download the refund form, it's an app called AnyDesk.", "Log into your online banking so I can send the refund.", "I'll connect to your computer to fill in the refund form for you.", "Turn on your laptop and press the windows key."),
		c("Oh no, you typed an extra zero, we have sent you ten times too much.", "The system refunded too much money into your account.", "You entered the wrong amount, we sent you {amount} instead of {price}.", "Look, you have been credited an extra {amount}, that's a big problem for me."),
		r("Oh dear, I'm sorry.", "How did that happen?", "I don't want money that isn't mine."),
		c("You need to send the difference back in {payment}.", "Please return the extra money by buying {payment}.", "Go to the shop and get {payment} to send the rest back, or I lose my job.", "Transfer the extra back to this account straight away.", "Send the money back by {payment} today please."),
		maybe(0.6, c("Don't tell the cashier what the cards are for, say they are for your grandchildren.", "Please don't mention this to your bank, they will block it.", "Keep the phone with you and do not hang up.")),
		maybe(0.5, c("It has to be done today or you'll be charged again.", "Please hurry, my manager is waiting.")),
	}},
	{"utility_cutoff", true, []beat{
		c("This is the disconnection department of {utility}.", "Hello, I'm calling from the {utility} billing department about your account.", "This is an automated notice from your electric company.", "Good morning, it's {utility}, your account has been flagged for disconnection.", "Hello, this is the collections team at {utility}.", "This is an urgent message from {utility} about your service."),
		c("Your power will be disconnected within thirty minutes due to an unpaid bill.", "Your account is past due and your gas supply will be cut off today.", "There is an outstanding balance of {amount} on your account and your service will be interrupted.", "We have no record of your last three payments and an engineer is on the way to disconnect your meter.", "Your electricity will be shut off this afternoon unless the overdue amount is paid."),
		c("Press one to speak to the billing department now.", "To avoid disconnection call us back immediately on {number}.", "Stay on the line to make a payment.", "Press one now to stop the disconnection.", "Do not hang up, I can take the payment now."),
		r("But I pay by direct debit.", "I'm sure I paid it.", "Please don't cut me off, I need the heating.", "How much is it?"),
		maybe(0.8, c("You can pay the overdue amount now with {payment}.", "Read me your card number and the three digits on the back.", "We only accept payment by {payment} for overdue accounts.", "Give me your bank details and we'll take the payment straight away.", "Buy {payment} at the corner shop and read me the numbers.")),
		maybe(0.5, c("Don't call the number on your bill, it will take too long.", "You have thirty minutes, the engineer is already in your road.", "If you hang up the disconnection goes ahead.")),
	}},
	{"card_rate", true, []beat{
		c("This is card member services calling about your credit card account.", "Thank you for choosing Visa and Mastercard, this is an important message about your interest rate.", "Hello, this is the credit card services department, this is your final courtesy call.", "This is an important message from your card issuer about your balance.", "Hello, this is cardholder services with an offer on your credit card debt.", "This message is from the credit card services department regarding your account."),
		c("You now qualify for a zero percent interest rate on your existing credit card balances.", "Due to your good payment history you are eligible for an interest rate reduction.", "We can lower your interest rate and cut your monthly payments in half.", "You have been pre approved to reduce your credit card debt.", "This is your final chance to lower your interest rate."),
		c("Press one now to speak to a specialist before this offer expires.", "Press one to qualify, or press two to be placed on the do not call list.", "This is your last chance, press one right away.", "Press one to speak to a representative about your options.", "Call us back on {number} to claim your lower rate."),
		r("How much will it cost?", "Which card is this about?", "I don't have much debt."),
		maybe(0.8, c("To verify your account read me the card number and the expiry date.", "I need the security code on the back of your card.", "There is a one time processing fee of {amount}.", "Give me your card details and I'll apply the new rate today.", "Confirm your social security number so I can find your accounts.")),
		maybe(0.4, c("This offer expires today.", "You must decide now.")),
	}},
	{"family_emergency", true, []beat{
		c("Grandma, it's me, I'm in trouble.", "Hi Nan, it's your grandson, I've been arrested.", "Hello Grandad, it's {relname}, please don't be angry.", "Mum, it's me, I lost my phone, this is my new number.", "Hello, I'm calling on behalf of your grandson {relname}, I'm his solicitor.", "Gran, do you know who this is? It's your favourite grandson."),
		r("{relname}? Is that you?", "Oh my goodness, what's happened?", "Your voice sounds different.", "Are you alright?"),
		c("I was in a car accident and the police are holding me.", "I'm in jail and I need money for bail.", "He has been arrested abroad and needs bail money today.", "I've been in an accident and I'm in hospital, I need help with the bill.", "I'm stuck abroad and my wallet was stolen.", "I crashed the car and the other driver wants money or he'll call the police."),
		c("I need you to send {amount} for my bail.", "Please buy {payment} and read me the numbers.", "Can you withdraw {amount} in cash, a courier will come to collect it.", "Please transfer the money to my friend's account, I'll text you the details.", "The lawyer says you can pay the bail with {payment}.", "Can you get {amount} out of the bank today? A man will come round for it."),
		c("Please don't tell Mum and Dad, they'll be so angry.", "Don't tell anyone, I'm so embarrassed.", "Keep this between us please.", "Don't ring my mum, she'll only worry."),
		r("Alright love, I'll help.", "How much do you need?", "Let me find my purse."),
		maybe(0.6, c("It has to be today or I'll stay in jail.", "Please hurry, I don't have long on the phone.", "They are only giving me one call.")),
	}},
	{"investment", true, []beat{
		c("Hello, I'm calling from a crypto investment company with an exclusive opportunity.", "Hi, this is {agent} from a trading platform, we help people double their money.", "Good afternoon, I'm a financial adviser with a guaranteed investment that pays twenty percent a month.", "Hello, you registered interest in bitcoin trading and I'm your account manager.", "Hi, I'm calling from an investment firm about a business opportunity."),
		c("Our clients are making guaranteed returns with bitcoin.", "This is a limited investment opportunity, only a few places left.", "You could turn {amount} into ten times that in a few weeks.", "The returns are guaranteed, there is no risk at all."),
		r("That sounds too good to be true.", "How does it work?", "I don't know much about bitcoin."),
		c("You just need to download our trading app and open an account.", "Send your first deposit in bitcoin to our wallet.", "Transfer {amount} from your bank to your new trading account.", "I'll need remote access to your computer to set up your account.", "Buy cryptocurrency at the bitcoin machine and send it to the address I give you.", "Install the trading software and I'll show you the profits."),
		maybe(0.6, c("Don't tell your bank, they don't like crypto.", "Keep this to yourself, it's not for everyone.", "If the bank asks, say it's for home improvements.")),
		maybe(0.6, c("You need to decide today, the price is going up.", "Act now before the offer closes.", "This window closes within the hour.")),
	}},
	{"parcel_fee", true, []beat{
		c("This is {deliverer}, we tried to deliver your parcel today.", "Hello, this is an automated message from {deliverer} about a parcel held at customs.", "Hi, {deliverer} delivery team here, your package could not be delivered.", "This is {deliverer} customs department about a package in your name.", "Hello, this is the {deliverer} courier service with a final delivery notice."),
		c("Your parcel is on hold until a customs fee of {amount} is paid.", "A package under your name has been seized at the border with illegal items.", "There is an unpaid shipping fee on your delivery.", "Your parcel will be returned to the sender unless the fee is paid today."),
		c("Press one to speak to an agent and arrange redelivery.", "Please call us back on {number} to release your parcel.", "Press one now or your parcel will be returned.", "Stay on the line to speak to the customs officer."),
		r("I'm not expecting anything.", "What parcel?", "Oh, it might be my birthday present."),
		maybe(0.8, c("Can you read me your card number to pay the fee?", "Pay the release fee with {payment}.", "I'll send you a code, please read it back to me.", "Give me your bank details and the parcel will be delivered tomorrow.")),
		maybe(0.4, c("If you do not pay, the police will be informed.", "You may face criminal charges for the contents.")),
	}},
	{"prize_offer", true, []beat{
		c("Congratulations, you have been selected to receive a complimentary cruise.", "This is an exclusive announcement, your number has been preselected for a free holiday.", "You have won a prize in our customer draw.", "Good news, you are the winner of our monthly sweepstakes.", "Hello, thanks to our rewards program your membership has been drawn to receive a free stay."),
		c("To claim your prize press one now.", "Press one to speak to a representative, or press two to be removed.", "Call us back on {number} to claim your reward.", "Press one now for details of your prize."),
		r("I never entered a competition.", "What do I have to do?", "Is this real?"),
		maybe(0.7, c("There is a small fee of {amount} to release your prize.", "To claim, we need your card details for the taxes.", "Pay the registration fee with {payment}.", "Read me the long number on your card to confirm your identity.")),
		maybe(0.4, c("This offer expires today.", "You must claim within the hour.")),
	}},

	// Genuine calls that sound like them.
	{"bank_automated_check", false, []beat{
		c("This is an automated call from {bank} fraud prevention about a payment on your card ending four five two one.", "Hello, this is {bank}, we're calling to check a recent transaction on your debit card.", "This is an automated message from the {bank} fraud team.", "Hello, {bank} card services here with an automated security check."),
		c("We need to check a payment of forty two pounds to {shop} made today.", "There is a transaction of one hundred and twenty pounds at {shop}.", "We noticed an unusual payment of sixty pounds online at {shop}.", "A payment to {shop} for eighteen pounds ninety nine was made this morning."),
		c("If you made this payment press one, if you did not press two.", "Press one if you recognise this payment, or two if you don't.", "If this was you, press one for yes.", "Please press one to confirm the payment is genuine."),
		r("Yes, that was me.", "One.", "Yes, I did that."),
		c("Thank you, your card is safe to use.", "Thank you, we've marked the payment as genuine.", "Thanks, there's nothing else you need to do.", "Thank you, goodbye."),
		maybe(0.7, c("We will never ask for your PIN or ask you to move money.", "If you're unsure about this call, hang up and call the number on the back of your card.", "We will never ask you to transfer money to a safe account or to buy gift cards.", "If you didn't make a payment, call us on the number on the back of your card.")),
	}},
	{"hmrc_genuine", false, []beat{
		c("Hello, this is Claire from HMRC, I'm returning your call about your tax return.", "Good morning, it's HMRC, you asked us to call you back about your self assessment.", "Hello, I'm calling from HM Revenue and Customs about the letter you wrote to us.", "Hello {name}, it's the tax office returning your call about your pension and your tax code."),
		r("Oh yes, thank you for calling back.", "Yes, I wrote to you last month.", "Thank you, I was confused by the letter."),
		c("We sent you a letter about an underpayment and it will be collected through your tax code next year.", "Your return has been processed and there is nothing to pay today.", "You overpaid a little and we'll send a cheque in the post.", "Your new tax code will be on your next payslip, you don't need to do anything."),
		maybe(0.6, c("Can you confirm your date of birth and postcode for security?", "Could you confirm your national insurance number please?", "For security can I take your full name and address?")),
		maybe(0.7, c("If you want to check this call is from us, hang up and ring the number on the gov uk website.", "We will never ask you to pay by gift cards, vouchers or bitcoin.", "We always write first, and we'll never threaten you with arrest.", "Remember HMRC will never ask for payment over the phone by gift card.")),
		c("Is there anything else I can help with?", "Thanks for your time, goodbye.", "That's all, have a good day."),
	}},
	{"support_placed", false, []beat{
		c("Thank you for calling {isp} broadband support, how can I help?", "Hello, you're through to the {isp} help desk, what seems to be the problem?", "Thanks for calling {isp} technical support, my name is Sam.", "Welcome to {isp} customer service, how can I help you today?"),
		r("My internet keeps dropping out.", "My email stopped working this morning.", "The router has a red light on it.", "I can't get the television to connect."),
		c("Let's try restarting your router, unplug it for thirty seconds.", "Can you open your browser and go to the router page?", "I can see a fault on your line, an engineer will come on Thursday.", "Let me run a line test from here, it takes a minute."),
		r("Okay, it's back on now.", "Thursday is fine.", "Right, I've done that."),
		maybe(0.6, c("Your case number is {number}, in case you need to call back.", "If it happens again you can call us back on this number any time.", "You'll get a text to confirm the engineer's visit.")),
		c("Is there anything else I can help with?", "Thanks for calling, have a good day.", "Glad that's working again, bye."),
	}},
	{"store_order_genuine", false, []beat{
		c("Hello, this is {store} customer service calling about your order for {item2}.", "Hi {name}, it's {store} delivery team about your order.", "Hello, I'm calling from {store} about the {item2} you bought last week.", "Good afternoon, it's {store} about your delivery."),
		r("Oh yes, hello.", "Is everything alright with it?", "Yes, I ordered that."),
		c("Your delivery is booked for Tuesday between eight and twelve.", "I'm afraid it's out of stock until next month, would you like to wait?", "The driver will call you thirty minutes before he arrives.", "We need to change your delivery day to Friday."),
		r("Tuesday is fine.", "I can wait.", "Friday is okay."),
		maybe(0.6, c("If that doesn't suit, you can change it on our website or call us on the number in your email.", "You don't need to pay anything more, it's all paid for.", "If you'd like a refund instead, we'll put it back on your card automatically.")),
		c("Thanks, goodbye.", "Have a lovely day.", "Thank you, bye now."),
	}},
	{"energy_genuine", false, []beat{
		c("Hello, it's {utility} about your smart meter appointment.", "Good morning, this is {utility} customer services about your account.", "Hello {name}, I'm calling from {utility} about your bill.", "Hi, it's {utility}, we're calling all customers about the winter discount."),
		r("Oh hello.", "Yes, what's it about?", "Is there a problem?"),
		c("Our engineer will come on Friday morning to fit the meter.", "Your account is in arrears by a small amount, we can set up a payment plan to spread it.", "You may be eligible for the warm home discount, I can send you the form.", "Your direct debit is going up by five pounds a month from next month."),
		maybe(0.7, c("Press one to confirm the appointment or two to rearrange.", "You can pay online or call us on the number on your bill.", "There's nothing to pay today, we'll write to you with the details.", "You can check all this on your online account.")),
		r("That's fine.", "Please send me the form.", "Alright, thank you."),
		c("Thanks, goodbye.", "Have a good day.", "Thank you for your time."),
	}},
	{"family_bad_news", false, []beat{
		c("Hi Gran, it's {relname}, I just wanted to let you know Dad's in hospital but he's okay.", "Hello Nan, it's {relname}, I'm calling with some news about Mum.", "Hi Grandad, it's me, {relname}, I've had a bit of an accident on my bike.", "Hello Auntie, it's {relname}, Uncle John has had a fall."),
		r("Oh no, is he alright?", "What's happened, love?", "Oh dear, are you hurt?"),
		c("He had a fall and broke his wrist, they're keeping him in tonight.", "She's had a small operation and it went well.", "It's only a sprained ankle, I'm at home now.", "He's in the hospital for a few days for tests."),
		c("Mum will call you later, don't worry.", "Do you want me to pick you up to visit tomorrow?", "I'll come round on Sunday and tell you everything.", "We'll keep you posted."),
		maybe(0.4, c("Don't worry about bringing anything, we've got it all.", "Don't tell Grandad yet, we'll tell him when he's home.", "Keep warm and we'll see you soon.")),
		c("Love you, bye.", "Speak soon.", "Take care, bye bye."),
	}},
}
