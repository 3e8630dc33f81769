#!/usr/bin/env bash
# make install-test: the Debian packages of make package installed into clean Debian roots,
# as on a carer's small box, and used for real.
#
#   fresh    a new bookworm root (debootstrap, kept as a tarball in artifacts/install after
#            the first run): apt installs dist/clearline_$VERSION_amd64.deb and its
#            dependencies; the service is started as its unit says; the setup page answers;
#            the first-run setup is done over HTTP with the code the guard wrote; a SIPp
#            phone calls a SIPp provider through it with the saved settings; idle CPU and
#            memory are measured; remove keeps the data, purge deletes it.
#   upgrade  a new root with the previous package (the code before this work, packaged the
#            same way, version 0.0.9), set up by hand in /etc/clearline/clearline.yaml as
#            before; a call is stored; the new package is installed over it: the edited
#            configuration, the data and the stored call are all still there.
#   arm64    the arm64 package's binary started under qemu-user-static with Debian's arm64
#            libraries: /healthz answers, pocketsphinx loads, a SIPp call goes through.
#
# systemd is not PID 1 in a chroot, so the service is started as the unit would start it:
# its ExecStart, as its User and Group, in its WorkingDirectory, with its one ambient
# capability (setpriv) and no new privileges, inside a network namespace of its own (so
# ports 5060 and 8080 are the root's alone). The unit itself is checked by
# systemd-analyze verify and scored by systemd-analyze security.
#
# Needs root, debootstrap, qemu-user-static, sipp, curl and iproute2; downloads Debian
# packages. Figures go to artifacts/install/figures.md.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${VERSION:-0.1.0}
PREV_VERSION=0.0.9
work=$PWD/artifacts/install
mkdir -p "$work"
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
ns=clearline-it-$$
roots=()
pids=()
figures=$work/figures.md
: >"$figures"
log() { printf '\n== %s\n' "$*"; }
fig() { printf '%s\n' "$*" | tee -a "$figures"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# unmount_all ROOT: every mount under ROOT, deepest first; fails if one is left.
unmount_all() {
	local r m
	r=$(realpath -m "$1")
	for m in $(awk -v r="$r/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	! awk -v r="$r/" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/mounts
}
# remove_root ROOT: delete a root only once nothing is mounted in it (its /dev and /proc
# are the machine's own), and never across a file system boundary.
remove_root() {
	[ -e "$1" ] || return 0
	unmount_all "$1" || { echo "still mounted under $1: not deleting it"; return 1; }
	rm -rf --one-file-system "$1"
}

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for r in "${roots[@]}"; do remove_root "$r" || true; done
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT

in_ns() { ip netns exec "$ns" "$@"; }

# A clean bookworm root, from the cached debootstrap tarball.
cache=$work/bookworm-minbase.tar
if [ ! -f "$cache" ]; then
	log "debootstrap bookworm (once; kept in $cache)"
	tmp=$work/debootstrap
	rm -rf "$tmp"
	debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$work/debootstrap.log"
	tar -C "$tmp" -cf "$cache" .
	rm -rf "$tmp"
fi
new_root() { # name: sets root (not in a subshell, so that cleanup knows of it)
	root=$work/_root-$1 # "_": the go tool leaves it alone while it exists
	remove_root "$root"
	roots+=("$root")
	mkdir -p "$root"
	tar -C "$root" -xf "$cache"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	mount -t proc proc "$root/proc"
	mount --bind /dev "$root/dev"
	mount --bind /dev/pts "$root/dev/pts"
	mkdir -p "$work/apt-archives"
}
apt_in() { # root, apt-get arguments...
	local r=$1
	shift
	# The downloaded packages are kept between runs (a box's apt cache would be empty: the
	# first run's figure is the one with downloads).
	mkdir -p "$r/var/cache/apt/archives"
	mount --bind "$work/apt-archives" "$r/var/cache/apt/archives"
	DEBIAN_FRONTEND=noninteractive chroot "$r" apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
	umount "$r/var/cache/apt/archives"
}

# unit KEY: a setting of the packaged unit, as systemd would read it.
unit=packaging/clearline.service
unit() { sed -n "s/^$1=//p" "$unit" | tail -1; }

# start_service ROOT LOG: run the unit's ExecStart as the unit would, in the namespace.
start_service() {
	local r=$1 out=$2
	local user group dir exec cap
	user=$(unit User) group=$(unit Group) dir=$(unit WorkingDirectory) exec=$(unit ExecStart)
	cap=$(unit AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/^cap_//')
	ip netns exec "$ns" chroot "$r" setpriv --reuid="$user" --regid="$group" --init-groups \
		--inh-caps=-all,+"$cap" --ambient-caps=-all,+"$cap" --bounding-set=-all,+"$cap" --no-new-privs \
		-- sh -c "umask $(unit UMask); cd $dir && exec $exec" >"$out" 2>&1 &
	pids+=($!)
	service_pid=$! # ip netns exec, chroot, setpriv and sh all exec: this is clearline's PID
}
stop_service() {
	kill -TERM "$service_pid"
	wait "$service_pid" || true
}
wait_http() { # url, seconds
	local deadline=$(($(date +%s) + $2))
	until in_ns curl -fsS -o /dev/null "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "no answer from $1 within $2 s"; return 1; }
		sleep 0.1
	done
}

# sipp_call PHONE_PASSWORD: the SIPp provider answers, the SIPp kitchen phone calls out
# through the guard on 127.0.0.1:5060 (guard's provider: 127.0.0.2:5080).
sipp_call() {
	local sc=$PWD/testdata/sipp
	ip netns exec "$ns" sipp -sf "$sc/trunk_answers.xml" -i 127.0.0.2 -p 5080 -m 1 -nostdin -timeout 30s -timeout_error >"$work/sipp-trunk.log" 2>&1 &
	local trunk=$!
	sleep 0.3
	in_ns sipp -sf "$sc/phone_dials.xml" -s 01632960000 -au kitchen -ap "$1" -i 127.0.0.1 -p 5070 \
		-m 1 -d 1000 -nostdin -timeout 30s -timeout_error 127.0.0.1:5060 >"$work/sipp-phone.log" 2>&1 ||
		{ echo "the SIPp phone's call failed:"; tail -20 "$work/sipp-phone.log"; return 1; }
	wait "$trunk" || { echo "the SIPp provider did not get the call"; return 1; }
}

ip netns add "$ns"
in_ns ip link set lo up

log "the unit: systemd-analyze"
# (the binary is not installed on this machine: that one complaint is expected)
systemd-analyze verify --man=no "$unit" 2>&1 | grep -v 'Command /usr/bin/clearline is not executable' || true
exposure=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | tail -1 || true)
fig "- unit hardening (systemd-analyze security --offline=yes): ${exposure#→ }"

for arch in amd64 arm64; do
	deb=dist/clearline_${VERSION}_$arch.deb
	[ -f "$deb" ] || { echo "no $deb: run make package"; exit 1; }
	fig "- package size $arch: $(du -h --apparent-size "$deb" | cut -f1) ($(stat -c %s "$deb") bytes; installed $(dpkg-deb -f "$deb" Installed-Size) KiB)"
done

# ---------------------------------------------------------------------------------------
log "fresh: a clean root to the setup page"
new_root fresh
cp "dist/clearline_${VERSION}_amd64.deb" "$root/tmp/"
t0=$(now)
apt_in "$root" install "/tmp/clearline_${VERSION}_amd64.deb" >"$work/apt-fresh.log"
t_installed=$(since "$t0")
grep -q 'systemd is not running here' "$work/apt-fresh.log"
[ -L "$root/etc/systemd/system/multi-user.target.wants/clearline.service" ] || { echo "the unit is not enabled"; exit 1; }
start_service "$root" "$work/service-fresh.log"
wait_http http://127.0.0.1:8080/setup 60
t_setup=$(since "$t0")
fig "- fresh root → package and its dependencies installed by apt: ${t_installed} s; → setup page answering: ${t_setup} s ($(grep -c '^Get:' "$work/apt-fresh.log" || true) packages downloaded)"
in_ns curl -fsS http://127.0.0.1:8080/healthz
grep -q 'recogniser=pocketsphinx/domain' "$work/service-fresh.log" || { echo "pocketsphinx did not load"; cat "$work/service-fresh.log"; exit 1; }
[ "$(chroot "$root" stat -c %U /var/lib/clearline/clearline.db)" = clearline ] || { echo "the database is not the clearline user's"; exit 1; }
grep -q 'nobody can log in yet' "$work/service-fresh.log"

log "fresh: the first-run setup over HTTP"
code=$(cat "$root/var/lib/clearline/setup-code")
jar=$work/cookies
rm -f "$jar"
curl_ns() { in_ns curl -fsS -b "$jar" -c "$jar" "$@"; }
status=$(in_ns curl -s -o /dev/null -w '%{http_code}' -d code=WRONG-CODE-0000 http://127.0.0.1:8080/setup)
[ "$status" = 401 ] || { echo "a wrong code got $status"; exit 1; }
curl_ns -o /dev/null -d "code=$code" http://127.0.0.1:8080/setup
csrf=$(curl_ns http://127.0.0.1:8080/setup/line | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl_ns -o /dev/null --data-urlencode "csrf=$csrf" -d name=Home -d provider=manual -d address=127.0.0.2:5080 -d transport=udp \
	-d number=01632960123 -d box=127.0.0.1 -d phones=kitchen -d police=101 -d bank=03457345345 http://127.0.0.1:8080/setup/line
password=$(awk '/user: kitchen/ { getline; print $2 }' "$root/var/lib/clearline/setup.yaml")
[ -n "$password" ] || { echo "the setup saved no phone password"; cat "$root/var/lib/clearline/setup.yaml"; exit 1; }
[ "$(chroot "$root" stat -c '%U %a' /var/lib/clearline/setup.yaml)" = "clearline 600" ]
sipp_call "$password"
curl_ns -o /dev/null --data-urlencode "csrf=$csrf" -d name=Sam -d email=sam@example.org -d 'password=correct horse battery' \
	-d ntfy=http://127.0.0.1:9/mum http://127.0.0.1:8080/setup/you
[ ! -e "$root/var/lib/clearline/setup-code" ]
calls=$(curl_ns http://127.0.0.1:8080/api/v1/calls)
echo "$calls" | grep -q '"outcome": "completed"' || { echo "no completed call: $calls"; exit 1; }
fig "- fresh: setup over HTTP with the logged code, then a SIPp call through the installed guard: completed"

log "fresh: idle for 60 s"
[ "$(cat "/proc/$service_pid/comm")" = clearline ] || { echo "pid $service_pid is not the guard"; exit 1; }
sleep 10
ticks() { awk '{ print $14 + $15 }' "/proc/$service_pid/stat"; }
a=$(ticks)
sleep 60
b=$(ticks)
hz=$(getconf CLK_TCK)
cpu=$(awk -v a="$a" -v b="$b" -v hz="$hz" 'BEGIN { printf "%.2f", 100 * (b - a) / hz / 60 }')
rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$service_pid/status")
hwm=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$service_pid/status")
decoders=$(sed -n 's/^  decoders: *\([0-9]*\).*/\1/p' packaging/clearline.yaml)
fig "- idle, as packaged (after setup and one call; listening on, pocketsphinx with ${decoders} decoder; no hub of its own): ${cpu} % of a core over 60 s, ${rss} MiB resident (peak ${hwm} MiB)"
stop_service

log "fresh: remove keeps the data, purge deletes it"
chroot "$root" dpkg -r clearline >/dev/null
[ -f "$root/var/lib/clearline/clearline.db" ] && [ -f "$root/etc/clearline/clearline.yaml" ] || { echo "remove deleted the data or the configuration"; exit 1; }
chroot "$root" dpkg -P clearline >/dev/null
[ ! -e "$root/var/lib/clearline" ] && [ ! -e "$root/etc/clearline/clearline.yaml" ] || { echo "purge left the data or the configuration"; exit 1; }
fig "- remove kept /var/lib/clearline and /etc/clearline/clearline.yaml; purge deleted both"

# ---------------------------------------------------------------------------------------
log "upgrade: the previous package, set up by hand"
prev_ref=${PREV_REF:-$(git rev-list --reverse HEAD -- packaging/nfpm.yaml | head -1)~1}
prev=$work/prev
rm -rf "$prev"
mkdir -p "$prev"
git archive "$prev_ref" | tar -x -C "$prev"
(cd "$prev" && CGO_ENABLED=1 go build -trimpath -ldflags '-s -w' -o "$PWD/../prev-clearline" ./cmd/clearline)
mkdir -p dist/build
cp "$work/prev-clearline" dist/build/clearline
ARCH=amd64 VERSION=$PREV_VERSION go tool nfpm package --config packaging/nfpm.yaml --packager deb --target "$work/" >/dev/null
new_root upgrade
cp "$work/clearline_${PREV_VERSION}_amd64.deb" "dist/clearline_${VERSION}_amd64.deb" "$root/tmp/"
apt_in "$root" install "/tmp/clearline_${PREV_VERSION}_amd64.deb" >"$work/apt-prev.log"
cat >>"$root/etc/clearline/clearline.yaml" <<'EOF'
# Set up by hand, as before the first-run setup existed:
trunk:
  address: 127.0.0.2:5080
  did: "01632960123"
EOF
sed -i -e 's/^phones: \[\].*/phones: [{user: kitchen, password: kitchen-by-hand}]/' \
	-e 's/^http:$/http:\n  api_token: install-test-token/' "$root/etc/clearline/clearline.yaml"
start_service "$root" "$work/service-prev.log"
wait_http http://127.0.0.1:8080/healthz 60
sipp_call kitchen-by-hand
sleep 1
before=$(in_ns curl -fsS -H 'Authorization: Bearer install-test-token' http://127.0.0.1:8080/api/calls)
id=$(echo "$before" | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | head -1)
[ -n "$id" ] || { echo "the previous package stored no call: $before"; exit 1; }
stop_service

log "upgrade: the new package over it"
apt_in "$root" install "/tmp/clearline_${VERSION}_amd64.deb" >"$work/apt-upgrade.log"
grep -q 'kitchen-by-hand' "$root/etc/clearline/clearline.yaml" || { echo "the upgrade replaced the edited configuration"; exit 1; }
[ "$(chroot "$root" dpkg-query -W -f '${Version}' clearline)" = "$VERSION" ]
start_service "$root" "$work/service-upgrade.log"
wait_http http://127.0.0.1:8080/healthz 60
after=$(in_ns curl -fsS -H 'Authorization: Bearer install-test-token' "http://127.0.0.1:8080/api/calls/$id")
echo "$after" | grep -q '"outcome": "completed"' || { echo "the stored call is gone after the upgrade: $after"; exit 1; }
sipp_call kitchen-by-hand
stop_service
fig "- upgrade $PREV_VERSION (the code at $(git rev-parse --short "$prev_ref"), before this work) → $VERSION: the edited conffile kept, call $id still stored, the hand-written phone calls out after it"

# ---------------------------------------------------------------------------------------
log "arm64: the binary under qemu-user-static"
arm=$work/arm64
rm -rf "$arm"
mkdir -p "$arm"
dpkg-deb -x "dist/clearline_${VERSION}_arm64.deb" "$arm/pkg"
file -b "$arm/pkg/usr/bin/clearline" | grep -q 'ARM aarch64'
cat >"$arm/clearline.yaml" <<EOF
sip: {listen: 127.0.0.1:5060}
trunk: {address: 127.0.0.2:5080}
phones: [{user: kitchen, password: arm-kitchen}]
http: {listen: 127.0.0.1:8080, api_token: arm}
data_dir: $arm/data
listening: {recogniser: pocketsphinx, decoders: 1}
hub: {run: false}
EOF
t0=$(now)
ip netns exec "$ns" qemu-aarch64-static -L / "$arm/pkg/usr/bin/clearline" run --config "$arm/clearline.yaml" >"$work/service-arm64.log" 2>&1 &
pids+=($!)
service_pid=$!
wait_http http://127.0.0.1:8080/healthz 120
t_arm=$(since "$t0")
grep -q 'recogniser=pocketsphinx/domain' "$work/service-arm64.log" || { echo "pocketsphinx did not load on arm64"; cat "$work/service-arm64.log"; exit 1; }
sipp_call arm-kitchen
stop_service
fig "- arm64 under qemu-user-static: /healthz answering ${t_arm} s after start (pocketsphinx loaded, emulated), a SIPp call completed"

log "figures"
cat "$figures"
echo "ok: install test passed"
