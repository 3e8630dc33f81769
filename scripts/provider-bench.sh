#!/usr/bin/env bash
# A provider's service under load: SIPp calls from the trunk through Kamailio's dispatcher
# (packaging/kamailio/clearline-lb.cfg) to one guard, then to two guards sharing one
# PostgreSQL database, across HOUSEHOLDS households (each with its own number and phone), in
# the same run. Prints a Markdown report (also artifacts/provider-bench.md): per offered rate,
# the calls/s completed and failed through one guard and through two, and the ratio.
# Needs bin/clearline (make build), sipp, kamailio and PostgreSQL (make test-deps).
#
#   RATES="100 200 300" SECONDS_PER_STEP=8 HOUSEHOLDS=1000 scripts/provider-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"100 200 300 400"}
STEP=${SECONDS_PER_STEP:-8}
HOUSEHOLDS=${HOUSEHOLDS:-1000}
BIN=${BIN:-bin/clearline}
work=$(mktemp -d)
chmod 755 "$work"
mkdir -p artifacts
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
kamailio_bin=$(command -v kamailio || echo /usr/sbin/kamailio)
LB=127.0.0.3:45070 TRUNK=127.0.0.2 PHONE_PORT=45090 CALLER_PORT=45071 PG_PORT=45432
DB="postgres://postgres@127.0.0.1:$PG_PORT/clearline?sslmode=disable"
guard_pids=() kam_pid=

cleanup() {
	kill "${guard_pids[@]}" $kam_pid 2>/dev/null || true
	pkill -f "sipp -sn uas -i 127.0.0.1 -p $PHONE_PORT" 2>/dev/null || true
	"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "starting PostgreSQL..." >&2
mkdir -p "$work/pg" && chown -R "$( [ "$(id -u)" = 0 ] && echo postgres || id -un)" "$work/pg"
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg" -o "-p $PG_PORT -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=200" \
	-l "$work/pg/log" -w start >/dev/null
"${as_pg[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p $PG_PORT -U postgres clearline

# guard_config N IP: the configuration of guard N on IP (all guards alike but for addresses).
guard_config() {
	cat >"$work/guard$1.yaml" <<YAML
sip:
  listen: $2:45060
  ring_timeout: 10s
  load_balancers: [${LB%:*}]
trunk:
  address: $TRUNK:45080
  inbound_from: [$TRUNK]
http:
  listen: $2:45081
  api_token: bench-operator-token
media:
  ports: $((20000 + $1 * 5000))-$((24999 + $1 * 5000))
  timeout: 120s
data_dir: $work/data$1
database: $DB
hub:
  run: false
listening:
  recogniser: none   # the call rate, not listening (see scripts/bench.sh for that)
YAML
}
start_guard() { # N IP
	guard_config "$1" "$2"
	"$BIN" run --config "$work/guard$1.yaml" --log-level warn 2>"$work/guard$1.log" &
	guard_pids+=($!)
	for _ in $(seq 100); do curl -sf "http://$2:45081/healthz" >/dev/null && return; sleep 0.1; done
	echo "guard $1 did not start:" >&2; cat "$work/guard$1.log" >&2; exit 1
}
stop_guards() { kill "${guard_pids[@]}" 2>/dev/null || true; wait "${guard_pids[@]}" 2>/dev/null || true; guard_pids=(); }
start_kamailio() { # guard addresses…
	: >"$work/guards.list"
	for g in "$@"; do echo "1 sip:$g 0 0" >>"$work/guards.list"; done
	"$kamailio_bin" -DD -E -f packaging/kamailio/clearline-lb.cfg -A "DS_LIST=\"$work/guards.list\"" -A DS_PING=1 \
		-l "udp:$LB" -Y "$work" -P "$work/kamailio.pid" -w "$work" -m 256 -M 16 -n 2 >"$work/kamailio.log" 2>&1 &
	kam_pid=$!
	sleep 1.5 # the first keepalives mark the guards active
}
stop_kamailio() { kill $kam_pid 2>/dev/null || true; wait $kam_pid 2>/dev/null || true; kam_pid=; }

# The households: an admin adds them through the first guard's API, each with one number
# (Ofcom's drama range) and one phone whose contact is the SIPp phone.
echo "adding $HOUSEHOLDS households through the API..." >&2
start_guard 1 127.0.0.11
printf 'bench-admin-password\n' | "$BIN" admin add-user --config "$work/guard1.yaml" --email admin@bench.example --name Admin --role admin >/dev/null
jar=$work/cookies
curl -sf -c "$jar" -o /dev/null -d email=admin@bench.example -d password=bench-admin-password http://127.0.0.11:45081/login
csrf=$(curl -sf -b "$jar" http://127.0.0.11:45081/api/v1/me | sed -n 's/.*"csrf_token": *"\([^"]*\)".*/\1/p')
echo "SEQUENTIAL" >"$work/numbers.csv"
for i in $(seq 0 $((HOUSEHOLDS - 1))); do
	n=$(printf '01632%06d' $((960000 + i)))
	curl -sf -b "$jar" -H "X-CSRF-Token: $csrf" -o /dev/null -d "{\"id\":\"h$i\",\"name\":\"Home $i\",\"numbers\":[\"$n\"]}" http://127.0.0.11:45081/api/v1/households
	curl -sf -b "$jar" -H "X-CSRF-Token: $csrf" -o /dev/null -d "{\"user\":\"h$i-phone\",\"contact\":\"sip:h$i-phone@127.0.0.1:$PHONE_PORT\"}" http://127.0.0.11:45081/api/v1/households/h$i/phones
	echo "$n" >>"$work/numbers.csv"
done
stop_guards
sed "s/\[service\]/[field0]/g" testdata/sipp/bench_via_proxy.xml >"$work/uac.xml"

# run_step NAME RATE: calls at RATE per second from the trunk through Kamailio to the
# households' numbers; prints "achieved_cps failed".
run_step() {
	local name=$1 rate=$2 n=$(( $2 * STEP ))
	sipp -sn uas -i 127.0.0.1 -p $PHONE_PORT -bg -nostdin >/dev/null 2>&1 &
	sleep 0.3
	local t0=$(date +%s.%N)
	set +e
	sipp -sf "$work/uac.xml" -inf "$work/numbers.csv" -key caller +442085550123 -key caller_name Bench \
		-i $TRUNK -p $CALLER_PORT -r "$rate" -m "$n" -l $((rate * 4)) -nostdin -default_behaviors all,-abortunexp \
		-timeout $((STEP + 30))s -trace_stat -stf "$work/$name-$rate.csv" -fd 1 \
		-trace_err -error_file "artifacts/provider-$name-$rate-errors.log" "$LB" >/dev/null 2>&1
	set -e
	local t1=$(date +%s.%N)
	pkill -f "sipp -sn uas -i 127.0.0.1 -p $PHONE_PORT" || true
	while pgrep -f "sipp -sn uas -i 127.0.0.1 -p $PHONE_PORT" >/dev/null; do sleep 0.1; done
	local failed=$(awk -F';' 'NR==1 {for (i=1;i<=NF;i++) if ($i=="FailedCall(C)") c=i} END {print $c}' "$work/$name-$rate.csv")
	local ok=$(awk -F';' 'NR==1 {for (i=1;i<=NF;i++) if ($i=="SuccessfulCall(C)") c=i} END {print $c}' "$work/$name-$rate.csv")
	echo "$(awk -v ok="${ok:-0}" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", ok / (b - a)}') ${failed:-?}"
}

report=artifacts/provider-bench.md
{
echo "## A provider's service: SIPp from the trunk → Kamailio → guard(s) → SIPp phone, $HOUSEHOLDS households, ${STEP}s per step"
echo
echo "| offered calls/s | one guard achieved | one guard failed | two guards achieved | two guards failed | two/one |"
echo "|---|---|---|---|---|---|"
} | tee "$report"
best1=0 best2=0
for rate in $RATES; do
	start_guard 1 127.0.0.11
	start_kamailio 127.0.0.11:45060
	read -r one_cps one_failed < <(run_step one "$rate")
	stop_kamailio; stop_guards
	start_guard 1 127.0.0.11
	start_guard 2 127.0.0.12
	start_kamailio 127.0.0.11:45060 127.0.0.12:45060
	read -r two_cps two_failed < <(run_step two "$rate")
	stop_kamailio; stop_guards
	ratio=$(awk -v a="$two_cps" -v b="$one_cps" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
	echo "| $rate | $one_cps | $one_failed | $two_cps | $two_failed | $ratio |" | tee -a "$report"
	[ "$one_failed" = 0 ] && best1=$one_cps
	[ "$two_failed" = 0 ] && best2=$two_cps
done
{
echo
echo "Highest rate with zero failed calls: one guard **$best1 calls/s**, two guards **$best2 calls/s** (two/one $(awk -v a="$best2" -v b="$best1" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'))."
} | tee -a "$report"
