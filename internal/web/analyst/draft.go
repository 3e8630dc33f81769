package analyst

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clearline/clearline/internal/campaign"
	"github.com/clearline/clearline/internal/hub"
)

// draftAlert pre-fills a community alert from the campaign: what the callers say, what to do.
func draftAlert(c campaign.Campaign, reports []hub.Report) map[string]string {
	var districts []string
	for _, d := range c.Districts {
		districts = append(districts, d.New...)
	}
	who := "a police officer"
	for _, r := range reports {
		if r.Claimed == "bank" {
			who = "your bank's fraud team"
			break
		}
	}
	var says []string
	for k := range c.Indicators {
		if p, ok := indicatorPhrases[k]; ok {
			says = append(says, p)
		}
	}
	slices.Sort(says)
	body := fmt.Sprintf("Callers are ringing homes in %s pretending to be %s.", strings.Join(districts, ", "), who)
	if len(says) > 0 {
		body += " They " + strings.Join(says, "; ") + "."
	}
	if len(c.Numbers) > 0 {
		body += " Numbers used: " + strings.Join(c.Numbers, ", ") + "."
	}
	body += " The police and your bank will never ask you to withdraw cash, hand over cards or PINs, or move money." +
		" Hang up, wait five minutes, and call back on a number you trust from another phone. Report it on 101."
	return map[string]string{"title": "Scam calls: people pretending to be " + who, "body": body, "districts": strings.Join(districts, "\n")}
}

var indicatorPhrases = map[string]string{
	"cash_withdrawal": "ask you to withdraw cash", "courier_collection": "send a courier to collect cash or cards",
	"card_or_pin_request": "ask for your PIN or bank card", "safe_account_transfer": "ask you to move money to a \"safe account\"",
	"high_value_purchase": "ask you to buy gold, watches or gift cards", "secrecy": "tell you not to tell your bank or family",
	"callback_trick": "tell you to ring 101 to check, but stay on the line", "urgency_or_threat": "threaten arrest or say you must act now",
	"remote_access": "ask to get onto your computer or phone", "personal_details": "ask for passwords or codes sent by text",
	"dictated_number": "give you a number to ring them back on", "unexpected_problem": "say there is an order, a charge, a virus or a refund you knew nothing about",
	"call_to_action": "tell you to press 1 or ring them back", "unusual_payment": "ask to be paid in gift cards, vouchers, crypto or by money transfer",
}
