package guardian

import "strings"

// Preset is a provider's usual settings, to fill in for a carer. Written from the
// providers' published setup pages without internet access here: check them against your
// provider's own instructions.
type Preset struct {
	ID, Name string
	// Address is the provider's SIP server (host:port); empty when it is the account's own.
	Address   string
	Transport string
	// Registers: the box logs in to the provider with the account's user name and password.
	Registers bool
	// Username says where to find the user name.
	Username string
}

// presets are the providers the setup offers; "manual" is filled in by hand.
var presets = []Preset{
	{ID: "sipgate", Name: "sipgate basic (UK)", Address: "sipgate.co.uk:5060", Transport: "udp", Registers: true,
		Username: "your SIP-ID, like 1234567e0, from the sipgate web site's telephony settings"},
	{ID: "aaisp", Name: "Andrews & Arnold (VoIP)", Address: "voiceless.aa.net.uk:5060", Transport: "udp", Registers: true,
		Username: "the number itself, as the control pages show it"},
	{ID: "telnyx", Name: "Telnyx (credentials connection)", Address: "sip.telnyx.com:5060", Transport: "udp", Registers: true,
		Username: "the SIP connection's user name, from the Telnyx portal"},
	{ID: "ip-trunk", Name: "A SIP trunk that knows this box's address (no log-in)", Transport: "udp",
		Username: "none: the provider lets calls from the box's address through"},
	{ID: "manual", Name: "Another provider: I will type in its settings", Transport: "udp",
		Username: "the SIP user name (or authentication name) the provider gave you"},
}

func presetByID(id string) (Preset, bool) {
	for _, p := range presets {
		if p.ID == id {
			return p, true
		}
	}
	return Preset{}, false
}

// Device is a common ATA, DECT base or softphone, with what to type where to connect one
// phone to the guard. In each step {server}, {port}, {user} and {password} are replaced.
type Device struct {
	Name  string
	Where string
	Steps [][2]string // field name, value
}

var devices = []Device{
	{Name: "Grandstream HT801 / HT802 (phone adapter)", Where: "its web page (the address its phone announces after *** 02), tab FXS PORT 1",
		Steps: [][2]string{{"Primary SIP Server", "{server}:{port}"}, {"SIP User ID", "{user}"}, {"Authenticate ID", "{user}"}, {"Authenticate Password", "{password}"}, {"SIP Registration", "Yes"}}},
	{Name: "Cisco / Linksys SPA112 (phone adapter)", Where: "its web page → Voice → Line 1",
		Steps: [][2]string{{"Proxy", "{server}:{port}"}, {"Register", "yes"}, {"User ID", "{user}"}, {"Password", "{password}"}, {"Use Auth ID", "no"}}},
	{Name: "Gigaset IP DECT base (N300 IP, N510 IP PRO, Go…)", Where: "its web configurator → Settings → Telephony → Connections → IP1 → Edit",
		Steps: [][2]string{{"Authentication name", "{user}"}, {"Authentication password", "{password}"}, {"Username", "{user}"}, {"Domain", "{server}"}, {"Proxy server address", "{server}"}, {"Proxy server port", "{port}"}, {"Registrar server", "{server}"}, {"Registrar server port", "{port}"}}},
	{Name: "Yealink W60B / W70B (DECT base)", Where: "its web page → Account → Register → Account 1",
		Steps: [][2]string{{"Line Active", "Enabled"}, {"Register Name", "{user}"}, {"Username", "{user}"}, {"Password", "{password}"}, {"Server Host", "{server}"}, {"Server Port", "{port}"}, {"Transport", "UDP"}}},
	{Name: "FRITZ!Box as the DECT base", Where: "its web page → Telephony → Own Telephone Numbers → New Telephone Number → Other provider",
		Steps: [][2]string{{"Telephone number for registration", "{user}"}, {"User name", "{user}"}, {"Password", "{password}"}, {"Registrar", "{server}:{port}"}, {"Proxy server", "{server}:{port}"}}},
	{Name: "A softphone (Linphone, Zoiper…)", Where: "add a SIP account",
		Steps: [][2]string{{"Username", "{user}"}, {"Password", "{password}"}, {"Domain / server", "{server}:{port}"}, {"Transport", "UDP"}}},
}

// deviceSteps fills in a device's steps for one phone.
func deviceSteps(d Device, server, port, user, password string) [][2]string {
	r := strings.NewReplacer("{server}", server, "{port}", port, "{user}", user, "{password}", password)
	out := make([][2]string, len(d.Steps))
	for i, s := range d.Steps {
		out[i] = [2]string{s[0], r.Replace(s[1])}
	}
	return out
}
