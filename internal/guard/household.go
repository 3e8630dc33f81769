package guard

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/screen"
)

// A household is one home the guard protects: the numbers its calls come in on and go out
// with, its phones, the choices its guardians make while the guard runs, and what its own
// calls have taught the guard (a risky call just now, numbers a scam caller gave, numbers
// it rang). Nothing of one household is seen by another's calls.
type household struct {
	id     string
	line   atomic.Pointer[line]
	phones *phones

	rules  atomic.Pointer[rules]
	asks   atomic.Pointer[askRules]
	carer  atomic.Pointer[carerRules]
	policy atomic.Pointer[listen.Policy] // nil: the listener's own

	// rang holds the numbers the household's phones rang: canonical number → when.
	rang      sync.Map
	lastRisky atomic.Int64 // unix nanoseconds of the last warned, screened or blocked call
	// lastEmergency is when a phone last rang an emergency number (unix nanoseconds).
	lastEmergency atomic.Int64
	// dictated holds numbers callers gave to ring back on in calls that sounded like a
	// scam: canonical number → when it was given.
	dictated sync.Map
	// last is the call the handset codes act on (handset.go).
	last lastCaller
	// memory is told what the household's calls teach (memory.go); nil: no one.
	memory func(MemoryEvent)
}

// A line is how a household is reached and named; it is replaced whole when an admin
// changes it.
type line struct {
	// did is the number the household's calls go out with ("" when the trunk carries only
	// the configuration's household: then any number it is called on is its own).
	did string
	// numbers are the numbers its calls come in on, canonical.
	numbers []string
	// trunkUser is the trunk account's user name, which some providers put in the
	// Request-URI of inbound calls (the configuration's household only).
	trunkUser string
	district  string
}

// newHousehold is the household the configuration file describes.
func newHousehold(cfg *config.Config) *household {
	h := &household{id: cfg.Household.ID, phones: newPhones(cfg.Phones)}
	l := &line{did: cfg.Trunk.DID, trunkUser: cfg.Trunk.Username, district: cfg.Household.District}
	if n, err := screen.Canonical(cfg.Trunk.DID); err == nil && cfg.Trunk.DID != "" {
		l.numbers = []string{n}
	}
	h.line.Store(l)
	return h
}

func (h *household) did() string      { return h.line.Load().did }
func (h *household) district() string { return h.line.Load().district }

// rules are the household's choices that its guardians can change while the guard runs.
type rules struct {
	chain    screen.Chain
	callback config.Callback
}

// askRules are the household's choices about asking callers who they are.
type askRules struct {
	ask claim.Asking
	// unknownScreened is screening.unknown: screen (or carer). A caller who will not answer is then
	// offered to the resident as an unknown caller is; otherwise they ring through.
	unknownScreened bool
}

// carerRules are the household's choices of which calls a guardian decides (Carer Check).
type carerRules struct{ unknown, warned string }

func (h *household) setRules(chain screen.Chain, callback config.Callback) {
	if chain == nil {
		chain = screen.Chain{}
	}
	h.rules.Store(&rules{chain: chain, callback: callback})
}

func (h *household) directory() config.Callback { return h.rules.Load().callback }

// answersTo says whether an inbound call's user part names the household: one of its
// phones, its DID or its trunk user name. Without a DID, any name does.
func (h *household) answersTo(user string) bool {
	l := h.line.Load()
	if l.did == "" {
		return true
	}
	if _, ok := h.phones.password(user); ok {
		return true
	}
	return user == l.did || user == l.trunkUser || dialled(sip.Uri{User: user}) == dialled(sip.Uri{User: l.did})
}

// presentedID is the caller ID the household shows the trunk: its DID, else the trunk
// account, else the phone's own name.
func (h *household) presentedID(phoneUser string) string {
	l := h.line.Load()
	if l.did != "" {
		return l.did
	}
	if l.trunkUser != "" {
		return l.trunkUser
	}
	return phoneUser
}

// RiskyWindow is how long after a warned, screened or blocked call the household's calls to
// the police or its bank are announced as safe call-backs.
const RiskyWindow = 30 * time.Minute

// noteRisky remembers that a risky call came in at now.
func (h *household) noteRisky(now time.Time) {
	storeLatest(&h.lastRisky, now)
	h.tell(MemoryRisky, "", now)
}

// afterRiskyCall says whether a risky call came in within RiskyWindow of now.
func (h *household) afterRiskyCall(now time.Time) bool {
	at := h.lastRisky.Load()
	return at != 0 && now.Sub(time.Unix(0, at)) < RiskyWindow
}

// emergencyAt is when the household last rang an emergency number (zero: not since the
// guard started).
func (h *household) emergencyAt() time.Time {
	if at := h.lastEmergency.Load(); at != 0 {
		return time.Unix(0, at)
	}
	return time.Time{}
}

// dictatedFor is how long a number a scam caller gave stays refused.
const dictatedFor = 24 * time.Hour

// noteDictated remembers the numbers the caller gave in a call that sounds like a scam,
// and says which it had not heard before.
func (h *household) noteDictated(r *call.Risk, now time.Time) (fresh []string) {
	if r == nil || (r.Verdict != "suspicious" && r.Verdict != "scam") {
		return nil
	}
	for _, n := range r.Dictated {
		if !storeLater(&h.dictated, n, now) {
			fresh = append(fresh, n)
		}
		h.tell(MemoryDictated, n, now)
	}
	return fresh
}

// wasDictated says whether number was given by a scam caller within dictatedFor of now.
func (h *household) wasDictated(number string, now time.Time) bool {
	n, err := screen.Canonical(number)
	if err != nil {
		return false
	}
	at, ok := h.dictated.Load(n)
	return ok && now.Sub(at.(time.Time)) <= dictatedFor
}

// callbackPrompt is the call-back announcement for a number in the household's directory.
func (h *household) callbackPrompt(number string) string {
	r := h.rules.Load()
	switch {
	case screen.Same(number, r.callback.Police):
		return "callback_police"
	case screen.Same(number, r.callback.Bank):
		return "callback_bank"
	case r.chain.Trusted(number):
		return "callback_trusted"
	}
	return ""
}

// rangFor is how long a number the household rang counts as one it knows (screening.ask:
// unknown does not ask it).
const rangFor = 30 * 24 * time.Hour

// noteRang remembers a number the household's phones rang.
func (h *household) noteRang(number string, now time.Time) {
	if n, err := screen.Canonical(number); err == nil {
		storeLater(&h.rang, n, now)
		h.tell(MemoryRang, n, now)
	}
}

// rangLately says whether the household rang number within rangFor of now.
func (h *household) rangLately(number string, now time.Time) bool {
	n, err := screen.Canonical(number)
	if err != nil {
		return false
	}
	at, ok := h.rang.Load(n)
	return ok && now.Sub(at.(time.Time)) < rangFor
}
