#!/usr/bin/env bash
# make install-test: the Debian packages of make package installed into clean Debian roots
# booted with systemd as PID 1 (systemd-nspawn), as on a carer's small box, and used for real.
#
#   fresh    a new bookworm root (debootstrap minbase with systemd, kept as a tarball in
#            artifacts/install after the first run; each box is a new copy), booted; apt
#            installs dist/clearline_$VERSION_amd64.deb: the postinst starts the real unit,
#            with its sandbox, and prints the setup code; the setup page answers; the
#            first-run setup is done over HTTP with that code; a SIPp phone calls a SIPp
#            provider through it with the saved settings; idle CPU and memory are measured;
#            the box is powered off and booted again: the service is back with the call;
#            remove stops it and keeps the data, purge deletes it.
#   upgrade  a new box with the previous package (the code before this work, packaged the
#            same way, version 0.0.9), set up by hand in /etc/clearline/clearline.yaml as
#            before; a call is stored; the new package is installed over it: the edited
#            configuration, the data and the stored call are all still there.
#   arm64    the arm64 package's binary started under qemu-user-static with Debian's arm64
#            libraries: /healthz answers, pocketsphinx loads, a SIPp call goes through.
#
# (A box mounts its own /tmp, so packages are copied to /root.) Each box has a network namespace of its own (nspawn --private-network: loopback only), so
# ports 5060 and 8080 are its alone, and SIPp and curl reach it there. Its Debian packages
# are downloaded beforehand on this machine's network into a cache the box installs from.
#
# Needs root, debootstrap, systemd-nspawn (systemd-container), qemu-user-static, sipp,
# curl and iproute2. Figures go to artifacts/install/figures.md.
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
leaders=()
figures=$work/figures.md
: >"$figures"
log() { printf '\n== %s\n' "$*"; }
fig() { printf '%s\n' "$*" | tee -a "$figures"; }
fail() { echo "FAIL: $*"; exit 1; }
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
# remove_root ROOT: delete a root only once nothing is mounted in it, and never across a
# file system boundary.
remove_root() {
	[ -e "$1" ] || return 0
	unmount_all "$1" || { echo "still mounted under $1: not deleting it"; return 1; }
	rm -rf --one-file-system "$1"
}
cleanup() {
	local p i
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
	done
	# A box that would not power off: its PID 1 killed ends every process in it.
	for p in "${leaders[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	sleep 0.5
	for r in "${roots[@]}"; do remove_root "$r" || true; done
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT

# chroot_apt ROOT ARGS: apt-get in a root that is not booted (to build the cache, to download).
chroot_apt() {
	local r=$1
	shift
	mount -t proc proc "$r/proc"
	mount --bind /dev "$r/dev"
	mount --bind "$work/apt-archives" "$r/var/cache/apt/archives"
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	DEBIAN_FRONTEND=noninteractive chroot "$r" apt-get -y -q "$@" || { unmount_all "$r"; return 1; }
	unmount_all "$r"
}

# The clean root: debootstrap minbase and the init system, once.
mkdir -p "$work/apt-archives"
cache=$work/bookworm-systemd.tar
if [ ! -f "$cache" ]; then
	log "debootstrap bookworm with systemd (once; kept in $cache)"
	tmp=$work/_debootstrap
	remove_root "$tmp"
	debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$work/debootstrap.log"
	chroot_apt "$tmp" install --no-install-recommends systemd systemd-sysv dbus >>"$work/debootstrap.log"
	rm -f "$tmp/etc/machine-id"
	tar -C "$tmp" -cf "$cache" .
	remove_root "$tmp"
fi

# boot NAME: a new box from the cache, booted; sets root and leader (its PID 1, here).
boot() {
	root=$work/_root-$1 # "_": the go tool leaves it alone while it exists
	remove_root "$root"
	roots+=("$root")
	mkdir -p "$root"
	tar -C "$root" -xf "$cache"
	# The box's network is loopback alone, so "the network is online" never comes: no
	# waiting for it (on a real box the unit starts once the network is up).
	ln -sf /dev/null "$root/etc/systemd/system/systemd-networkd-wait-online.service"
	: >"$root.console"
	start_box
}
start_box() {
	systemd-nspawn -D "$root" --boot --register=no --keep-unit --private-network --console=passive \
		--bind="$work/apt-archives:/var/cache/apt/archives" >>"$root.console" 2>&1 &
	nspawn=$!
	pids+=("$nspawn")
	local i
	for i in $(seq 100); do
		leader=$(pgrep -P "$nspawn" -x systemd | head -1 || true)
		if [ -n "$leader" ]; then
			case $(nsenter -t "$leader" -a systemctl is-system-running --wait 2>/dev/null) in
			running | degraded)
				leaders+=("$leader")
				return 0
				;;
			esac
		fi
		sleep 0.2
	done
	cat "$root.console"
	fail "the box did not boot"
}
poweroff_box() {
	nsenter -t "$leader" -a systemctl poweroff || true
	wait "$nspawn" || true
}
box() { nsenter -t "$leader" -a "$@"; }     # a command of the box's own
box_net() { nsenter -t "$leader" -n "$@"; } # this machine's program on the box's network
box_apt() { box env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; }
main_pid() { box systemctl show -p MainPID --value clearline; }
wait_http() { # url, seconds
	local deadline=$(($(date +%s) + $2))
	until box_net curl -fsS -o /dev/null "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] || fail "no answer from $1 within $2 s"
		sleep 0.1
	done
}
# fetch DEB: download what installing DEB into a clean box needs (this machine's network).
fetch() {
	local r=$work/_fetch
	remove_root "$r"
	roots+=("$r")
	mkdir -p "$r"
	tar -C "$r" -xf "$cache"
	cp "$1" "$r/tmp/"
	chroot_apt "$r" install --download-only "/tmp/$(basename "$1")"
	remove_root "$r"
}

# sipp_call RUN PHONE_PASSWORD: the SIPp provider answers, the SIPp kitchen phone calls out
# through the guard on 127.0.0.1:5060 (the guard's provider: 127.0.0.2:5080). RUN runs a
# program in the guard's network.
sipp_call() {
	local run=$1 sc=$PWD/testdata/sipp
	$run sipp -sf "$sc/trunk_answers.xml" -i 127.0.0.2 -p 5080 -m 1 -nostdin -timeout 30s -timeout_error >"$work/sipp-trunk.log" 2>&1 &
	local trunk=$!
	sleep 0.3
	$run sipp -sf "$sc/phone_dials.xml" -s 01632960000 -au kitchen -ap "$2" -i 127.0.0.1 -p 5070 \
		-m 1 -d 1000 -nostdin -timeout 30s -timeout_error 127.0.0.1:5060 >"$work/sipp-phone.log" 2>&1 ||
		{ tail -20 "$work/sipp-phone.log"; fail "the SIPp phone's call failed"; }
	wait "$trunk" || fail "the SIPp provider did not get the call"
}

log "the unit: systemd-analyze"
unit=packaging/clearline.service
# (the binary is not installed on this machine: that one complaint is expected)
systemd-analyze verify --man=no "$unit" 2>&1 | grep -v 'Command /usr/bin/clearline is not executable' || true
exposure=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | tail -1 || true)
fig "- unit hardening (systemd-analyze security --offline=yes): ${exposure#→ }"
for arch in amd64 arm64; do
	deb=dist/clearline_${VERSION}_$arch.deb
	[ -f "$deb" ] || fail "no $deb: run make package"
	fig "- package size $arch: $(du -h --apparent-size "$deb" | cut -f1) ($(stat -c %s "$deb") bytes; installed $(dpkg-deb -f "$deb" Installed-Size) KiB)"
done

# ---------------------------------------------------------------------------------------
log "fresh: download what the package needs"
deb=dist/clearline_${VERSION}_amd64.deb
rm -f "$work"/apt-archives/*.deb
t0=$(now)
fetch "$deb" >"$work/apt-download.log"
fig "- download of the package's Debian dependencies into an empty cache: $(since "$t0") s ($(ls "$work"/apt-archives/*.deb | wc -l) packages, $(du -sh "$work/apt-archives" | cut -f1))"

log "fresh: a booted clean box to the setup page"
t0=$(now)
boot fresh
t_boot=$(since "$t0")
cp "$deb" "$root/root/"
t0=$(now)
box_apt install "/root/$(basename "$deb")" >"$work/apt-fresh.log"
t_installed=$(since "$t0")
wait_http http://127.0.0.1:8080/setup 60
t_setup=$(since "$t0")
fig "- fresh box (booted in ${t_boot} s) → package installed by apt from the downloaded packages: ${t_installed} s; → setup page answering: ${t_setup} s"
grep -q 'type this one-time code' "$work/apt-fresh.log" || { cat "$work/apt-fresh.log"; fail "the installer did not print the setup code"; }
code=$(sed -n 's/.*one-time code: \([A-Z0-9-]*\).*/\1/p' "$work/apt-fresh.log")
[ "$code" = "$(cat "$root/var/lib/clearline/setup-code")" ] || fail "the printed code is not the guard's"
[ "$(box systemctl is-active clearline)" = active ] && [ "$(box systemctl is-enabled clearline)" = enabled ] || fail "the service is not active and enabled"
box journalctl -u clearline --no-pager | grep -q "setup_code=$code" || fail "the setup code is not in the journal"
pid=$(main_pid)
status=$(box cat "/proc/$pid/status")
echo "$status" | grep -q "^Uid:.*$(box id -u clearline)" || fail "the service does not run as clearline"
caps=$(echo "$status" | sed -n 's/^CapEff:\t//p')
[ "$caps" = 0000000000000400 ] || fail "the service's capabilities are $caps, not CAP_NET_BIND_SERVICE alone"
echo "$status" | grep -q '^NoNewPrivs:.1' && echo "$status" | grep -q '^Seccomp:.2' || fail "no NoNewPrivileges or system call filter"
# What the service sees of the file system (its mount namespace, through /proc/PID/root):
# /etc read-only, its state directory writable.
box touch "/proc/$pid/root/etc/clearline/x" 2>/dev/null && fail "the service's /etc is writable" || true
box touch "/proc/$pid/root/var/lib/clearline/x" && box rm "/proc/$pid/root/var/lib/clearline/x" || fail "the service cannot write its state directory"
fig "- the real unit under systemd: active and enabled, as clearline with CapEff=$caps (CAP_NET_BIND_SERVICE alone), NoNewPrivs, a seccomp filter, /etc read-only and /var/lib/clearline writable in its view; the setup code printed by apt, in the journal and in /var/lib/clearline/setup-code"
box_net curl -fsS http://127.0.0.1:8080/healthz
box journalctl -u clearline --no-pager | grep -q 'recogniser=pocketsphinx/domain' || fail "pocketsphinx did not load"

log "fresh: the first-run setup over HTTP"
jar=$work/cookies
rm -f "$jar"
curl_box() { box_net curl -fsS -b "$jar" -c "$jar" "$@"; }
st=$(box_net curl -s -o /dev/null -w '%{http_code}' -d code=WRONG-CODE-0000 http://127.0.0.1:8080/setup)
[ "$st" = 401 ] || fail "a wrong code got $st"
curl_box -o /dev/null -d "code=$code" http://127.0.0.1:8080/setup
csrf=$(curl_box http://127.0.0.1:8080/setup/line | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl_box -o /dev/null --data-urlencode "csrf=$csrf" -d name=Home -d provider=manual -d address=127.0.0.2:5080 -d transport=udp \
	-d number=01632960123 -d box=127.0.0.1 -d phones=kitchen -d police=101 -d bank=03457345345 http://127.0.0.1:8080/setup/line
password=$(awk '/user: kitchen/ { getline; print $2 }' "$root/var/lib/clearline/setup.yaml")
[ -n "$password" ] || { cat "$root/var/lib/clearline/setup.yaml"; fail "the setup saved no phone password"; }
[ "$(box stat -c '%U %a' /var/lib/clearline/setup.yaml)" = "clearline 600" ] || fail "setup.yaml is not the clearline user's alone"
sipp_call box_net "$password"
curl_box -o /dev/null --data-urlencode "csrf=$csrf" -d name=Sam -d email=sam@example.org -d 'password=correct horse battery' \
	-d ntfy=http://127.0.0.1:9/mum http://127.0.0.1:8080/setup/you
[ ! -e "$root/var/lib/clearline/setup-code" ] || fail "the setup code file is still there"
[ "$(box_net curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/setup)" = 404 ] || fail "the setup page is still there"
calls=$(curl_box http://127.0.0.1:8080/api/v1/calls)
echo "$calls" | grep -q '"outcome": "completed"' || fail "no completed call: $calls"
fig "- fresh: setup over HTTP with the printed code (a wrong one refused, the page gone after), then a SIPp call through the installed guard with the saved settings: completed"

log "fresh: idle for 60 s"
pid=$(main_pid)
sleep 10
ticks() { box awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
a=$(ticks)
sleep 60
b=$(ticks)
hz=$(getconf CLK_TCK)
cpu=$(awk -v a="$a" -v b="$b" -v hz="$hz" 'BEGIN { printf "%.2f", 100 * (b - a) / hz / 60 }')
rss=$(box awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
hwm=$(box awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
decoders=$(sed -n 's/^  decoders: *\([0-9]*\).*/\1/p' packaging/clearline.yaml)
fig "- idle, as packaged (after setup and one call; listening on, pocketsphinx with ${decoders} decoder; no hub of its own): ${cpu} % of a core over 60 s, ${rss} MiB resident (peak ${hwm} MiB)"

log "fresh: power off, boot again"
poweroff_box
t0=$(now)
start_box
wait_http http://127.0.0.1:8080/healthz 60
fig "- after a power-off the box booted and the guard answered again in $(since "$t0") s"
box_net curl -fsS -c "$jar" -o /dev/null -d email=sam@example.org -d 'password=correct horse battery' http://127.0.0.1:8080/login
curl_box http://127.0.0.1:8080/api/v1/calls | grep -q '"outcome": "completed"' || fail "the call is gone after the reboot"
grep -q 'user: kitchen' "$root/var/lib/clearline/setup.yaml" || fail "the setup is gone after the reboot"

log "fresh: remove keeps the data, purge deletes it"
box_apt remove clearline >/dev/null
[ "$(box systemctl is-active clearline || true)" != active ] || fail "remove left the service running"
[ -f "$root/var/lib/clearline/clearline.db" ] && [ -f "$root/etc/clearline/clearline.yaml" ] || fail "remove deleted the data or the configuration"
box_apt purge clearline >/dev/null
[ ! -e "$root/var/lib/clearline" ] && [ ! -e "$root/etc/clearline/clearline.yaml" ] || fail "purge left the data or the configuration"
fig "- reboot kept the service, the setup and the call; remove stopped the service and kept /var/lib/clearline and the conffile; purge deleted both"
poweroff_box

# ---------------------------------------------------------------------------------------
log "upgrade: the previous package, set up by hand"
# The previous package is the code before this work: the commit before nfpm came into go.mod.
prev_ref=${PREV_REF:-$(git log --reverse --format=%H -S'tool github.com/goreleaser/nfpm' -- go.mod | head -1)~1}
prev=$work/prev
rm -rf "$prev"
mkdir -p "$prev"
git archive "$prev_ref" | tar -x -C "$prev"
(cd "$prev" && CGO_ENABLED=1 go build -trimpath -ldflags '-s -w' -o "$work/prev-clearline" ./cmd/clearline)
mkdir -p dist/build
cp "$work/prev-clearline" dist/build/clearline
ARCH=amd64 VERSION=$PREV_VERSION go tool nfpm package --config packaging/nfpm.yaml --packager deb --target "$work/" >/dev/null
boot upgrade
cp "$work/clearline_${PREV_VERSION}_amd64.deb" "$deb" "$root/root/"
box_apt install "/root/clearline_${PREV_VERSION}_amd64.deb" >"$work/apt-prev.log"
cat >>"$root/etc/clearline/clearline.yaml" <<'EOF'
# Set up by hand, as before the first-run setup existed:
trunk:
  address: 127.0.0.2:5080
  did: "01632960123"
EOF
sed -i -e 's/^phones: \[\].*/phones: [{user: kitchen, password: kitchen-by-hand}]/' \
	-e 's/^http:$/http:\n  api_token: install-test-token/' "$root/etc/clearline/clearline.yaml"
box systemctl restart clearline
wait_http http://127.0.0.1:8080/healthz 60
sipp_call box_net kitchen-by-hand
sleep 1
before=$(box_net curl -fsS -H 'Authorization: Bearer install-test-token' http://127.0.0.1:8080/api/calls)
id=$(echo "$before" | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | head -1)
[ -n "$id" ] || fail "the previous package stored no call: $before"

log "upgrade: the new package over it"
old_pid=$(main_pid)
box_apt install "/root/$(basename "$deb")" >"$work/apt-upgrade.log"
grep -q 'kitchen-by-hand' "$root/etc/clearline/clearline.yaml" || fail "the upgrade replaced the edited configuration"
[ "$(box dpkg-query -W -f '${Version}' clearline)" = "$VERSION" ] || fail "not upgraded"
wait_http http://127.0.0.1:8080/healthz 60
[ "$(main_pid)" != "$old_pid" ] || fail "the upgrade did not restart the service"
after=$(box_net curl -fsS -H 'Authorization: Bearer install-test-token' "http://127.0.0.1:8080/api/calls/$id")
echo "$after" | grep -q '"outcome": "completed"' || fail "the stored call is gone after the upgrade: $after"
sipp_call box_net kitchen-by-hand
poweroff_box
fig "- upgrade $PREV_VERSION (the code at $(git rev-parse --short "$prev_ref"), before this work) → $VERSION: the service restarted by the postinst, the edited conffile kept, call $id still stored, the hand-written phone calls out after it"

# ---------------------------------------------------------------------------------------
log "arm64: the binary under qemu-user-static"
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
arm=$work/arm64
rm -rf "$arm"
mkdir -p "$arm"
dpkg-deb -x "dist/clearline_${VERSION}_arm64.deb" "$arm/pkg"
file -b "$arm/pkg/usr/bin/clearline" | grep -q 'ARM aarch64' || fail "not an arm64 binary"
cat >"$arm/clearline.yaml" <<EOF
sip: {listen: 127.0.0.1:5060}
trunk: {address: 127.0.0.2:5080}
phones: [{user: kitchen, password: arm-kitchen}]
http: {listen: 127.0.0.1:8080, api_token: arm}
data_dir: $arm/data
listening: {recogniser: pocketsphinx, decoders: 1}
hub: {run: false}
EOF
in_ns() { ip netns exec "$ns" "$@"; }
box_net() { ip netns exec "$ns" "$@"; }
t0=$(now)
ip netns exec "$ns" qemu-aarch64-static -L / "$arm/pkg/usr/bin/clearline" run --config "$arm/clearline.yaml" >"$work/service-arm64.log" 2>&1 &
arm_pid=$!
pids+=("$arm_pid")
wait_http http://127.0.0.1:8080/healthz 120
t_arm=$(since "$t0")
grep -q 'recogniser=pocketsphinx/domain' "$work/service-arm64.log" || { cat "$work/service-arm64.log"; fail "pocketsphinx did not load on arm64"; }
sipp_call in_ns arm-kitchen
kill -TERM "$arm_pid"
wait "$arm_pid" || true
fig "- arm64 under qemu-user-static: /healthz answering ${t_arm} s after start (pocketsphinx loaded, emulated), a SIPp call completed"

log "figures"
cat "$figures"
echo "ok: install test passed"
