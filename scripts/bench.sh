#!/usr/bin/env bash
# Load benchmark: SIPp callers through the guard to a SIPp phone, against SIPp calling SIPp
# directly in the same run as the baseline. Prints a Markdown report (also written to
# artifacts/bench.md). Needs bin/clearline (make build) and sipp.
#
#   RATES="200 400 600 800 1000" SECONDS_PER_STEP=8 CONCURRENT=1000 scripts/bench.sh
#   (CONCURRENT=0 measures the call rate only; RECOGNISER=none turns listening off;
#   RTCP=false relays RTP only)
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"200 400 600 800 1000 1200"}
STEP=${SECONDS_PER_STEP:-8}
CONCURRENT=${CONCURRENT:-800}
BIN=${BIN:-bin/clearline}
work=$(mktemp -d)
mkdir -p artifacts
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

SIP=127.0.0.1:45060 HTTP=127.0.0.1:45080 TRUNK=127.0.0.2 PHONE_PORT=45090 CALLER_PORT=45070
guard_pid=

start_guard() {
	rm -rf "$work/data"
	cat >"$work/bench.yaml" <<YAML
sip:
  listen: $SIP
  ring_timeout: 10s
trunk:
  address: $TRUNK:45080
  inbound_from: [$TRUNK]
phones:
  - user: kitchen
    password: bench
    contact: sip:kitchen@127.0.0.1:$PHONE_PORT
http:
  listen: $HTTP
media:
  ports: 20000-39999
  timeout: 120s
  rtcp: ${RTCP:-true}   # RTCP=false: RTP ports only
data_dir: $work/data
hub:
  run: false   # the guard alone (a provider's guard joins a hub elsewhere)
listening:
  recogniser: ${RECOGNISER:-auto}   # RECOGNISER=none measures the guard without listening
YAML
	"$BIN" run --config "$work/bench.yaml" --log-level warn 2>"$work/guard.log" &
	guard_pid=$!
	# Once up, give pocketsphinx's decoders (listening is on, as shipped) the few seconds they
	# take to load in the background, so the figures are for a guard in service.
	for _ in $(seq 50); do curl -sf "http://$HTTP/healthz" >/dev/null && { sleep 3; return; }; sleep 0.1; done
	echo "guard did not start:" >&2; cat "$work/guard.log" >&2; exit 1
}
stop_guard() { kill "$guard_pid"; wait "$guard_pid" 2>/dev/null || true; cp "$work/guard.log" artifacts/guard.log; }
metric() { curl -s "http://$HTTP/metrics" | awk -v m="$1" '$1==m {print $2}'; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# p99 of the teardown histogram, as the upper bound of the bucket holding the 99th percentile.
teardown_p99() {
	curl -s "http://$HTTP/metrics" | awk '
		/^clearline_teardown_seconds_bucket/ { match($0, /le="[^"]+"/); le=substr($0, RSTART+4, RLENGTH-5); les[n]=le; cnt[n++]=$2 }
		END { total=cnt[n-1]; if (total==0) { print "n/a"; exit } for (i=0;i<n;i++) if (cnt[i] >= 0.99*total) { print les[i]; exit } }'
}

# run_step NAME TARGET RATE: N calls at RATE per second from a caller on the trunk address to
# TARGET; prints "achieved_cps failed".
run_step() {
	local name=$1 target=$2 rate=$3 n=$(( $3 * STEP ))
	sipp -sn uas -i 127.0.0.1 -p $PHONE_PORT -bg -nostdin >/dev/null 2>&1 &
	sleep 0.3
	local t0=$(date +%s.%N)
	set +e
	sipp -sf testdata/sipp/bench_uac.xml -s kitchen -key caller +442085550123 -key caller_name Bench \
		-i $TRUNK -p $CALLER_PORT -r "$rate" -m "$n" -l $((rate * 4)) -nostdin \
		-timeout $((STEP + 30))s -trace_stat -stf "$work/$name-$rate.csv" -fd 1 \
		-trace_err -error_file "artifacts/$name-$rate-errors.log" "$target" >/dev/null 2>&1
	set -e
	local t1=$(date +%s.%N)
	pkill -f "sipp -sn uas" || true
	while pgrep -f "sipp -sn uas" >/dev/null; do sleep 0.1; done
	local failed=$(awk -F';' 'NR==1 {for (i=1;i<=NF;i++) if ($i=="FailedCall(C)") c=i} END {print $c}' "$work/$name-$rate.csv")
	local ok=$(awk -F';' 'NR==1 {for (i=1;i<=NF;i++) if ($i=="SuccessfulCall(C)") c=i} END {print $c}' "$work/$name-$rate.csv")
	echo "$(awk -v ok="${ok:-0}" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", ok / (b - a)}') ${failed:-?} ${ok:-0} $n"
}

report=artifacts/bench.md
{
echo "## Call rate (SIPp caller → [guard →] SIPp uas, ${STEP}s per step, each call INVITE/200/ACK/BYE)"
echo
echo "| offered calls/s | baseline achieved | baseline failed | guard achieved | guard failed | guard/baseline | guard p99 teardown |"
echo "|---|---|---|---|---|---|---|"
} | tee "$report"
best=0 best_ratio=n/a best_p99=n/a
for rate in $RATES; do
	read -r b_cps b_failed _ _ < <(run_step baseline 127.0.0.1:$PHONE_PORT "$rate")
	start_guard
	read -r g_cps g_failed _ _ < <(run_step guard "$SIP" "$rate")
	p99=$(teardown_p99)
	stop_guard
	ratio=$(awk -v g="$g_cps" -v b="$b_cps" 'BEGIN {printf "%.2f", (b > 0 ? g / b : 0)}')
	echo "| $rate | $b_cps | $b_failed | $g_cps | $g_failed | $ratio | ${p99}s |" | tee -a "$report"
	if [ "$g_failed" = 0 ]; then best=$g_cps best_ratio=$ratio best_p99=$p99; fi
done
{
echo
echo "Highest sustained rate through the guard with zero failed calls: **$best calls/s** (ratio to baseline $best_ratio, p99 teardown ≤ ${best_p99}s)."
echo
} | tee -a "$report"

[ "$CONCURRENT" -gt 0 ] || exit 0 # CONCURRENT=0: the call rate only

# Concurrent calls with media: CONCURRENT calls each playing G.711 audio for the whole call,
# echoed back by the phone. SIPp's sample is 7 s long; loop it to 2 minutes.
python3 - /usr/share/sip-tester/g711a.pcap "$work/long.pcap" <<'PY'
import struct, sys
src = open(sys.argv[1], 'rb').read()
out = [src[:24]]
recs, off = [], 24
while off < len(src):
    s, us, il, ol = struct.unpack('<IIII', src[off:off+16])
    recs.append((s + us / 1e6, il, ol, src[off+16:off+16+il])); off += 16 + il
span = recs[-1][0] - recs[0][0] + 0.02
for rep in range(18):
    for t, il, ol, data in recs:
        t += rep * span
        out.append(struct.pack('<IIII', int(t), int(round((t % 1) * 1e6)) % 1000000, il, ol) + data)
open(sys.argv[2], 'wb').write(b''.join(out))
PY
sed "s|/usr/share/sip-tester/g711a.pcap|$work/long.pcap|" testdata/sipp/bench_caller.xml >"$work/bench_caller.xml"
# hold_calls TARGET: CONCURRENT calls at 100/s, each held with audio; prints
# "peak_calls packets_per_s sipp_rc" (peak and packets from the guard's metrics when it is the target).
hold_calls() {
	local target=$1 hold=$(( CONCURRENT / 100 * 1000 + 15000 ))
	sipp -sn uas -i 127.0.0.1 -p $PHONE_PORT -mi 127.0.0.1 -rtp_echo -bg -nostdin >/dev/null 2>&1 &
	sleep 0.3
	sipp -sf "$work/bench_caller.xml" -s kitchen -key caller +442085550123 -key caller_name Bench -i $TRUNK -p $CALLER_PORT -mi $TRUNK -r 100 -m "$CONCURRENT" -d "$hold" -nostdin \
		-timeout $(( hold / 1000 + 60 ))s "$target" >"$work/caller.out" 2>&1 &
	local caller=$! peak=n/a pps=n/a
	if [ "$target" = "$SIP" ]; then
		for _ in $(seq $(( CONCURRENT / 100 * 10 + 100 ))); do
			a=$(metric clearline_active_calls); [ "${a%.*}" -ge "$CONCURRENT" ] && break; sleep 0.1
		done
		local p0=$(curl -s "http://$HTTP/metrics" | awk '/^clearline_rtp_packets_relayed_total/ {s+=$2} END {print s+0}')
		sleep 5
		local p1=$(curl -s "http://$HTTP/metrics" | awk '/^clearline_rtp_packets_relayed_total/ {s+=$2} END {print s+0}')
		peak=$(metric clearline_active_calls); peak=${peak%.*}
		pps=$(( (${p1%.*} - ${p0%.*}) / 5 ))
	fi
	set +e; wait "$caller"; local rc=$?; set -e
	pkill -f "sipp -sn uas" || true
	echo "$peak $pps $rc"
}

read -r _ _ base_rc < <(hold_calls 127.0.0.1:$PHONE_PORT)
start_guard
idle=$(rss_kib "$guard_pid")
hold_calls "$SIP" >"$work/hold.out"
read -r active pps rc <"$work/hold.out"
loaded=$(awk '/VmHWM/ {print $2}' "/proc/$guard_pid/status")
stop_guard
result() { [ "$1" = 0 ] && echo "all calls completed" || echo "failed calls (sipp exit $1)"; }
{
echo "## $CONCURRENT concurrent calls with G.711 audio both ways (SIPp caller plays audio, SIPp phone echoes it)"
echo
echo "| path | calls up at once | RTP relayed by the guard | result |"
echo "|---|---|---|---|"
echo "| baseline: SIPp → SIPp | $CONCURRENT | – | $(result "$base_rc") |"
echo "| SIPp → guard → SIPp | $active | $pps packets/s | $(result "$rc") |"
echo
echo "Guard memory: $((idle / 1024)) MiB idle, $((loaded / 1024)) MiB peak; $(( (loaded - idle) / (active > 0 ? active : 1) )) KiB per concurrent call."
} | tee -a "$report"
