package main

import "github.com/clearline/clearline/internal/claim"

// whoAnswers are the catalogue's organisations named in answers to "which organisation are
// you calling from?", one per organisation, each said one of its ways, in ways callers answer.
func whoAnswers(c *claim.Catalogue) []answer {
	var out []answer
	for i, o := range c.Organisations {
		var says []string
		for _, s := range o.Says {
			says = append(says, claim.Expand(s)...)
		}
		org := says[i%len(says)]
		var t string
		switch o.Kind {
		case claim.Police:
			t = []string{org + ".", "I'm calling from " + org + ".", "This is " + org + ".", "It's " + org + ", fraud squad."}[i%4]
		case claim.Bank:
			t = []string{org + ".", "I'm calling from " + org + ".", "It's " + org + " fraud team.", "This is " + org + "."}[i%4]
		case claim.Government:
			t = []string{"This is " + org + ".", "I'm calling from " + org + ".", org + "."}[i%3]
		case claim.Company:
			t = []string{"We're calling from " + org + ".", org + ".", "It's " + org + "."}[i%3]
		case claim.Family:
			t = []string{org + ".", "Hello, " + org + "."}[i%2]
		}
		out = append(out, answer{text: t, grammar: claim.WhoGrammar, kind: o.Kind, org: o.Name})
	}
	return out
}

// control are answers outside the grammar: cold callers and others who name no
// organisation of the catalogue. They must never be heard as the police.
var control = []string{
	"It's about your car insurance.",
	"We're doing a quick survey about your energy use.",
	"I'm calling about the accident you had recently.",
	"You may be owed compensation for mis sold P P I.",
	"Congratulations, you have won a free holiday.",
	"I'm ringing about your kitchen, we have an offer on new windows.",
	"Can I speak to the home owner please?",
	"It's about your solar panels.",
	"Hi, is that you? I need to talk to you.",
	"I'm not telling you that, just put me through.",
	"We are doing some market research today.",
	"Is this a good time to talk about your pension?",
	"This is a courtesy call about your boiler cover.",
	"Hello? Hello? Can you hear me?",
	"I just need two minutes of your time.",
	"We're in your area this week doing free roof inspections.",
	"This is an automated message about your account.",
	"You have been selected for a special offer.",
	"I'd rather not say, it's a private matter.",
	"Your subscription will renew today unless you press one.",
}
