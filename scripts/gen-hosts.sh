#!/usr/bin/env bash
# gen-hosts.sh: real libvirt hosts of newer generations, beside test-hosts.sh's A and B (Debian 12:
# libvirt 9.0, QEMU 7.2), for the tests that must hold on every libvirt a user may run.
#
#   scripts/gen-hosts.sh roots [GEN...]   build (or check) the cached root of each generation
#   scripts/gen-hosts.sh up [GEN...]      start both hosts of each generation; idempotent, and
#                                         restarts only a host whose daemon is gone
#   scripts/gen-hosts.sh down [GEN...]    stop their guests, QEMUs and daemons (by PID); rm state
#   scripts/gen-hosts.sh status [GEN...]  exit 0 only when every host of those generations answers
#   scripts/gen-hosts.sh env              VIRTWIRE_* lines for the generations that are up
#   scripts/gen-hosts.sh run GEN CMD...   CMD in the generation's root (its virsh, python3-libvirt)
# GEN is a generation's key or its libvirt version, or `all` (the default):
#   trixie     Debian 13               libvirt 11.3, QEMU 10.0   hosts C 127.0.0.11, D 127.0.0.12
#   backports  Debian 13 + backports   libvirt 12.x, QEMU 11.x   hosts E 127.0.0.13, F 127.0.0.14
#   spare      the machine's own       libvirt 9.0, QEMU 7.2     hosts G 127.0.0.15, H 127.0.0.16
# (test-hosts.sh's A and B are generation `bookworm`; the versions above are those of the day the
# roots were built: `env` reports what a root really holds.)
# `spare` is not a generation of its own: it is a second pair of bookworm hosts, run from the
# machine's own packages (no root to build), so that a test run can use bookworm hosts while
# another run holds A and B (CI runs the cross-version migrations on it, beside the 9.0 suite).
# `all` does not include it; `down` with no argument stops it too. Its `env` lines are its hosts'
# and VIRTWIRE_GEN_SPARE_*; test/helpers/global-setup.ts puts G and H in A and B's place when
# VIRTWIRE_BOOKWORM_HOSTS=G,H.
#
# Environment:
#   VIRTWIRE_CACHE        machine cache for the roots and QEMU capabilities (/var/cache/virtwire)
#   VIRTWIRE_GEN_DIR      state directory of the hosts (default ${TMPDIR:-/tmp}/virtwire-gens)
#   VIRTWIRE_DEBIAN_MIRROR  Debian mirror for the roots (default: the machine's apt sources)
#   VIRTWIRE_UP_TIMEOUT   seconds to wait for each daemon (default 90)
#
# Roots: mmdebstrap builds a minimal Debian 13 root with libvirt and QEMU (~30 s, ~400 MB) under
# $VIRTWIRE_CACHE/roots/trixie; the backports root is a copy of it upgraded from trixie-backports.
# A root is used only when its stamp says it was built by this recipe; otherwise it is rebuilt.
#
# A host: its libvirtd, chrooted into the generation's root, runs in a private mount namespace with
# proc, sys and dev, a tmpfs /run, the machine's /tmp, and this host's $GEN_DIR/<host>/{etc,run,lib,cache,log}
# over /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt; so
# its sockets ($GEN_DIR/<host>/run/libvirt-sock), pid files and logs are visible from outside, and
# the mounts vanish with the namespace's last process. Each host listens on its own address for
# TCP (16509, auth none) and TLS (16514, certificates from this script's own CA), and has its own
# host UUID and migration address and port range. The guest's directory (GUEST_DIR, see
# lib/hosts-common.sh; the one A and B use) is mounted at its own path in every root: the guest
# XML that `test-hosts.sh env` names starts on, and migrates between, every generation's hosts.
set -euo pipefail

SAY_TAG=gen-hosts
# shellcheck source=lib/hosts-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/hosts-common.sh"

CACHE=${VIRTWIRE_CACHE:-/var/cache/virtwire}
GDIR=${VIRTWIRE_GEN_DIR:-${TMPDIR:-/tmp}/virtwire-gens}
PKI_DIR=$GDIR/pki
UP_TIMEOUT=${VIRTWIRE_UP_TIMEOUT:-90}
PORT=16509
TLS_PORT=16514
GENS=(trixie backports)
SPARE=spare
# Bumped whenever the way a root is built changes: a root with another stamp is rebuilt.
RECIPE=1
ROOT_PACKAGES=(libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 libvirt-clients
  python3-libvirt)

gen_expected() { case $1 in trixie) echo 11.3.0 ;; backports) echo 12.9.0 ;; esac; }
gen_hosts() { case $1 in trixie) echo "C D" ;; backports) echo "E F" ;; spare) echo "G H" ;; esac; }
host_gen() { case $1 in C | D) echo trixie ;; E | F) echo backports ;; G | H) echo spare ;; esac; }
host_addr() { case $1 in C) echo 127.0.0.11 ;; D) echo 127.0.0.12 ;; E) echo 127.0.0.13 ;; F) echo 127.0.0.14 ;; G) echo 127.0.0.15 ;; H) echo 127.0.0.16 ;; esac; }
ALL_HOSTS=(C D E F G H)
# A is ...0a and B ...0b (test-hosts.sh); C is ...0c, and so on: G is ...10
host_uuid() { printf '7669727a-0000-4000-8000-%012x\n' $(($(printf '%d' "'$1") - 55)); }
# after A's 49152-49183 and B's 49184-49215: 32 ports each
host_mig_ports() {
  local i
  i=$(($(printf '%d' "'$1") - $(printf '%d' "'C")))
  echo "$((49216 + 32 * i)) $((49216 + 32 * i + 31))"
}
# the spare pair runs the machine's own libvirt: its root is /
root_of() { if [ "$1" = "$SPARE" ]; then echo /; else echo "$CACHE/roots/$1"; fi; }
# what a root holds: its stamp, or for the machine's own root, its packages
root_version() { # root_version GEN libvirt|qemu
  if [ "$1" = "$SPARE" ]; then
    case $2 in
    libvirt) pkg_version libvirt-daemon ;;
    qemu) pkg_version qemu-system-x86 ;;
    esac
  else
    stamp_get "$(root_of "$1")" "$2"
  fi
}
hdir() { echo "$GDIR/$1"; }
host_sock() { echo "$GDIR/$1/run/libvirt-sock"; }
tcp_uri() { echo "qemu+tcp://$(host_addr "$1")/system"; }

# ---------------------------------------------------------------------------------------------
# roots

# The machine's Debian mirror: the first URI of a deb822 stanza (or a one-line `deb`) serving a
# suite that is not -security. Read at run time so that no mirror is written into the repository.
debian_mirror() {
  local m=${VIRTWIRE_DEBIAN_MIRROR:-}
  if [ -z "$m" ]; then
    m=$(awk 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, w, " "); uri = w[2] }
          if ($i ~ /^Suites:/) { n = split($i, w, " "); for (j = 2; j <= n; j++) if (w[j] !~ /-security$/) ok = 1 }
        }
        if (uri != "" && ok) { print uri; exit } }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  fi
  if [ -z "$m" ]; then
    m=$(awk '$1 == "deb" && $0 !~ /-security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  fi
  [ -n "$m" ] || die "no Debian mirror in the machine's apt sources; set VIRTWIRE_DEBIAN_MIRROR"
  echo "${m%/}"
}

stamp_ok() { [ -x "$1/usr/sbin/libvirtd" ] && grep -qx "recipe=$RECIPE" "$1/.virtwire-root" 2>/dev/null; }
stamp_get() { sed -n "s/^$2=//p" "$1/.virtwire-root" 2>/dev/null; }

# upstream version of a package inside a root: 1:10.0.7+ds-0+deb13u1 -> 10.0.7
root_pkg_version() {
  chroot "$1" dpkg-query -W -f '${Version}' "$2" | sed -E 's/^[0-9]+://; s/[+~-].*$//'
}

write_stamp() { # write_stamp ROOT: what it was built by and what it holds
  printf '%s\n' "recipe=$RECIPE" "libvirt=$(root_pkg_version "$1" libvirt-daemon)" \
    "qemu=$(root_pkg_version "$1" qemu-system-x86)" "built=$(date -u +%FT%TZ)" >"$1/.virtwire-root"
}

# in_root ROOT CMD...: CMD chrooted into ROOT with proc, sys and dev, in a throw-away namespace
in_root() {
  local r=$1
  shift
  unshare --mount --propagation private -- /bin/sh -ec '
    r=$1; shift
    mount -t proc proc "$r/proc"; mount --rbind /sys "$r/sys"; mount --rbind /dev "$r/dev"
    exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive "$@"' sh "$r" "$@"
}

ensure_mmdebstrap() {
  command -v mmdebstrap >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "mmdebstrap is missing and we are not root"
  say "installing mmdebstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null
}

# Roots are built beside their final place and renamed in, so a run cut short leaves no half root.
build_root() { # build_root GEN
  local g=$1 r t0 mirror new log
  r=$(root_of "$g")
  t0=$(now)
  mirror=$(debian_mirror)
  new="$r.new"
  log="$CACHE/roots/$g.log"
  rm -rf "$new"
  case $g in
  trixie)
    ensure_mmdebstrap
    say "building the Debian 13 root $r (mmdebstrap, ~30 s; log $log)"
    # bookworm's debootstrap cannot order this set (systemd's pre-dependencies); mmdebstrap can.
    # bookworm's keyring already holds trixie's keys.
    mmdebstrap --mode=root --variant=minbase --include="$(
      IFS=,
      echo "${ROOT_PACKAGES[*]}"
    )" trixie "$new" "deb $mirror trixie main" >"$log" 2>&1 ||
      { tail -n 30 "$log" >&2; die "mmdebstrap failed (log above)"; }
    ;;
  backports)
    build_or_check trixie
    say "building the backports root $r (a copy of trixie's, upgraded; ~20 s; log $log)"
    cp -a "$(root_of trixie)" "$new"
    echo "deb $mirror trixie-backports main" >"$new/etc/apt/sources.list.d/backports.list"
    cp /etc/resolv.conf "$new/etc/resolv.conf" 2>/dev/null || true
    { in_root "$new" apt-get update -q &&
      in_root "$new" apt-get install -y -q -t trixie-backports "${ROOT_PACKAGES[@]}" &&
      in_root "$new" apt-get clean; } >"$log" 2>&1 ||
      { tail -n 30 "$log" >&2; die "upgrading the backports root failed (log above)"; }
    ;;
  *) die "unknown generation $g" ;;
  esac
  # no default network: nothing may touch the machine's bridges or firewall
  rm -f "$new"/etc/libvirt/qemu/networks/autostart/default.xml "$new"/etc/libvirt/qemu/networks/default.xml
  write_stamp "$new"
  rm -rf "$r"
  mv "$new" "$r"
  # capabilities probed by another build of this generation no longer apply
  rm -rf "$CACHE/caps/$g"
  say "root $g built in $(elapsed "$t0")s: libvirt $(stamp_get "$r" libvirt), QEMU $(stamp_get "$r" qemu)"
}

build_or_check() { # build_or_check GEN: a root stamped by this recipe, building it when missing
  local r
  if [ "$1" = "$SPARE" ]; then
    [ -x /usr/sbin/libvirtd ] || die "the spare pair runs the machine's libvirtd, which is missing: bash scripts/test-hosts.sh install"
    return 0
  fi
  r=$(root_of "$1")
  stamp_ok "$r" && return 0
  [ "$(id -u)" = 0 ] || die "the $1 root is missing and we are not root"
  build_root "$1"
}

# One builder at a time; a second caller waits, then finds the root built.
with_build_lock() {
  mkdir -p "$CACHE/roots"
  (
    flock 9
    "$@"
  ) 9>"$CACHE/roots/.lock"
}

# ---------------------------------------------------------------------------------------------
# hosts

write_pki() { # a CA, one server certificate for every host address, one client certificate
  local p=$PKI_DIR ips="" h
  # a PKI made for another set of hosts (an older checkout's) is made again, unless a host uses it
  if [ -s "$p/client/clientcert.pem" ]; then
    [ "$(cat "$p/hosts" 2>/dev/null)" = "${ALL_HOSTS[*]}" ] && return 0
    for h in "${ALL_HOSTS[@]}"; do
      host_ours "$h" && die "the hosts' certificates do not name every host ($p); stop the hosts first: $0 down"
    done
    rm -rf "$p"
  fi
  mkdir -p "$p"/{ca,server,client}
  for h in "${ALL_HOSTS[@]}"; do ips+="ip_address = \"$(host_addr "$h")\""$'\n'; done
  certtool_quiet --generate-privkey --key-type=rsa --bits=2048 --outfile "$p/server/serverkey.pem"
  certtool_quiet --generate-privkey --key-type=rsa --bits=2048 --outfile "$p/client/clientkey.pem"
  mkca "$p/ca" "virtwire generations CA"
  mkcert server "$p/ca" "$p/server/serverkey.pem" "$p/server/servercert.pem" "cn = \"localhost\"
dns_name = \"localhost\"
${ips}expiration_days = 3650
tls_www_server
encryption_key
signing_key"
  mkcert client "$p/ca" "$p/client/clientkey.pem" "$p/client/clientcert.pem" "cn = \"virtwire test client\"
tls_www_client
encryption_key
signing_key
expiration_days = 3650"
  cp "$p/ca/cacert.pem" "$p/client/"
  chmod 600 "$p"/*/*key.pem
  echo "${ALL_HOSTS[*]}" >"$p/hosts"
}

write_host() { # write_host HOST: fresh per-host state from the root's own configuration
  local h=$1 d r pmin pmax
  d=$(hdir "$h")
  r=$(root_of "$(host_gen "$h")")
  read -r pmin pmax <<<"$(host_mig_ports "$h")"
  # keep the QEMU capabilities a previous run of this host probed; everything else is new
  rm -rf "$d"/{etc,run,lib,log}
  mkdir -p "$d"/{run,log,cache}
  cp -a "$r/etc/libvirt" "$d/etc"
  cp -a "$r/var/lib/libvirt" "$d/lib"
  # no default network (the roots have none; the machine's own configuration may)
  rm -f "$d"/etc/qemu/networks/autostart/default.xml "$d"/etc/qemu/networks/default.xml
  mkdir -p "$d/etc/pki"
  cp "$PKI_DIR/ca/cacert.pem" "$PKI_DIR/server/servercert.pem" "$PKI_DIR/server/serverkey.pem" "$d/etc/pki/"
  # Paths below are as the chrooted daemon sees them. Workers and request limits as A and B's,
  # so a test means the same thing on every generation.
  cat >"$d/etc/libvirtd.conf" <<EOF
listen_tls = 1
tls_port = "$TLS_PORT"
auth_tls = "none"
ca_file = "/etc/libvirt/pki/cacert.pem"
cert_file = "/etc/libvirt/pki/servercert.pem"
key_file = "/etc/libvirt/pki/serverkey.pem"
listen_tcp = 1
listen_addr = "$(host_addr "$h")"
tcp_port = "$PORT"
auth_tcp = "none"
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
host_uuid = "$(host_uuid "$h")"
max_clients = 512
max_queued_clients = 256
max_anonymous_clients = 256
min_workers = 8
max_workers = 64
prio_workers = 8
max_client_requests = 64
keepalive_interval = 5
keepalive_count = 5
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
  # As A and B's (root QEMU, no virtlogd, no cgroups), plus what a chroot needs: no security
  # driver, no per-domain mount namespace, no chown of the guest's files. The migration address is
  # the host's own (only exactly 127.0.0.1 is refused).
  printf '%s\n' 'user = "root"' 'group = "root"' 'stdio_handler = "file"' 'cgroup_controllers = [ ]' \
    'security_driver = "none"' 'namespaces = [ ]' 'dynamic_ownership = 0' 'remember_owner = 0' \
    "migration_address = \"$(host_addr "$h")\"" "migration_host = \"$(host_addr "$h")\"" \
    "migration_port_min = $pmin" "migration_port_max = $pmax" >"$d/etc/qemu.conf"
  local pair binds=""
  for pair in etc:/etc/libvirt run:/run/libvirt lib:/var/lib/libvirt cache:/var/cache/libvirt \
    log:/var/log/libvirt; do
    binds+="mount --bind '$d/${pair%%:*}' \"\$R${pair#*:}\""$'\n'
  done
  # The machine's /tmp (above), the guest's directory and $TMPDIR are the daemon's too, as they
  # are A and B's: a path a test hands the daemon (a save file, a guest kernel) means the same file.
  local dir shared=""
  for dir in "$GUEST_DIR" "${TMPDIR:-/tmp}"; do
    case $dir/ in /tmp/*) continue ;; esac
    shared+="mkdir -p \"\$R$dir\" && mount --bind '$dir' \"\$R$dir\""$'\n'
  done
  # exec all the way down (bash, chroot, env): the launcher's PID becomes libvirtd's
  cat >"$d/launch.sh" <<EOF
#!/bin/bash
set -e
R='$r'
mount -t proc proc "\$R/proc"
mount --rbind /sys "\$R/sys"
mount --rbind /dev "\$R/dev"
mount -t tmpfs -o mode=755 tmpfs "\$R/run"
mount --rbind /tmp "\$R/tmp"
# /var/lock is /run/lock: libvirt locks a console's pty there
mkdir -p "\$R/run/libvirt" "\$R/run/lock"
# the machine's name resolution: libvirt resolves its host name at every connectGetHostname, and
# a name only the machine's /etc/hosts knows would otherwise go to DNS (seconds, under load)
mount --bind /etc/hosts "\$R/etc/hosts"
mount --bind /etc/resolv.conf "\$R/etc/resolv.conf"
${binds}${shared}exec chroot "\$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \\
  /usr/sbin/libvirtd --listen -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid
EOF
}

host_pid() { read_pid "$(hdir "$1")/launcher.pid"; }
host_ours() { in_ns "$(host_pid "$1")" "$(hdir "$1")/mntns"; }
answers() { timeout 10 virsh -q -c "$(tcp_uri "$1")" version >/dev/null 2>&1; }
host_up() { host_ours "$1" && answers "$1"; }

seed_caps() { # seed_caps HOST: the generation's probed QEMU capabilities, when cached
  local from
  from="$CACHE/caps/$(host_gen "$1")"
  compgen -G "$from/*.xml" >/dev/null || return 1
  mkdir -p "$(hdir "$1")/cache/qemu/capabilities"
  cp -a "$from"/*.xml "$(hdir "$1")/cache/qemu/capabilities/"
}

save_caps() { # save_caps HOST: keep what its daemon (re)validated for the next host and run
  local src tmp dst
  src="$(hdir "$1")/cache/qemu/capabilities"
  dst="$CACHE/caps/$(host_gen "$1")"
  compgen -G "$src/*.xml" >/dev/null || return 0
  mkdir -p "$CACHE/caps"
  tmp=$(mktemp -d "$dst.new.XXXXXX")
  cp -a "$src"/*.xml "$tmp/"
  rm -rf "$dst"
  mv "$tmp" "$dst"
}

show_logs() {
  local f
  for f in "$(hdir "$1")/stdout.log" "$(hdir "$1")/log/libvirtd.log"; do
    [ -s "$f" ] && { echo "----- tail of $f" >&2; tail -n 25 "$f" >&2; }
  done
  return 0
}

start_host() { # start_host HOST: launch and wait until it answers (QEMU probed on the first call)
  local h=$1 d t0 p
  d=$(hdir "$h")
  t0=$(now)
  port_taken "$(host_addr "$h")" && die "$(host_addr "$h"):$PORT is already in use by another process"
  write_host "$h"
  seed_caps "$h" || true
  rm -f "$d/mntns"
  setsid unshare --mount --propagation private /bin/bash "$d/launch.sh" >"$d/stdout.log" 2>&1 </dev/null &
  echo $! >"$d/launcher.pid"
  p=$!
  until answers "$h"; do
    alive "$p" || { show_logs "$h"; die "host $h exited during startup (logs above; '$0 down' cleans up)"; }
    if [ "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print int(b - a) }')" -ge "$UP_TIMEOUT" ]; then
      show_logs "$h"
      die "host $h did not answer on $(tcp_uri "$h") within ${UP_TIMEOUT}s ('$0 down' cleans up)"
    fi
    sleep 0.1
  done
  readlink "/proc/$p/ns/mnt" >"$d/mntns"
  save_caps "$h"
  say "host $h ($(host_gen "$h"), $(tcp_uri "$h")) up after $(elapsed "$t0")s"
}

stop_host() { # stop_host HOST: its guests through libvirt, then leftover QEMUs and libvirtd by PID
  local h=$1 d dom pids=() p
  d=$(hdir "$h")
  [ -d "$d" ] || return 0
  if [ -S "$(host_sock "$h")" ] && host_ours "$h"; then
    for dom in $(timeout 10 virsh -q -c "qemu+unix:///system?socket=$(host_sock "$h")" list --name 2>/dev/null); do
      timeout 15 virsh -q -c "qemu+unix:///system?socket=$(host_sock "$h")" destroy "$dom" >/dev/null 2>&1 || true
    done
  fi
  for p in $(qemu_pids "$d/run"); do in_ns "$p" "$d/mntns" && pids+=("$p"); done
  term_then_kill "${pids[@]}"
  pids=()
  p=$(host_pid "$h")
  in_ns "$p" "$d/mntns" && pids+=("$p")
  term_then_kill "${pids[@]}"
  rm -rf "$d"/{etc,run,lib,log} "$d"/*.pid "$d/mntns"
}

# ---------------------------------------------------------------------------------------------
# commands

# gens_of ARG...: generation keys (`all`, keys, `spare`, or libvirt versions such as 11.3)
gens_of() {
  local a g
  [ $# -gt 0 ] || set -- all
  for a in "$@"; do
    case $a in
    all | '') printf '%s\n' "${GENS[@]}" ;;
    trixie | backports | "$SPARE") echo "$a" ;;
    *)
      # a built root's own version, else the one the recipe gave when this was written
      for g in "${GENS[@]}"; do
        case $(stamp_get "$(root_of "$g")" libvirt || true):$(gen_expected "$g") in
        "$a":* | "$a".*:* | :"$a" | :"$a".*) echo "$g" ;;
        esac
      done | grep . || die "no generation '$a' (known: ${GENS[*]} $SPARE, or a built root's libvirt version)"
      ;;
    esac
  done | awk '!seen[$0]++'
}

cmd_roots() {
  local g
  for g in $(gens_of "$@"); do with_build_lock build_or_check "$g"; done
}

cmd_up() {
  local t0 g h gens
  t0=$(now)
  [ "$(id -u)" = 0 ] || die "must run as root (mount namespaces, chroot, system libvirtd)"
  gens=$(gens_of "$@")
  bash "$(dirname "${BASH_SOURCE[0]}")/test-hosts.sh" install >/dev/null # virsh, certtool
  for g in $gens; do with_build_lock build_or_check "$g"; done
  mkdir -p "$GDIR"
  write_guest
  write_pki
  for g in $gens; do
    for h in $(gen_hosts "$g"); do
      host_up "$h" && continue
      stop_host "$h"
      start_host "$h"
    done
  done
  say "generations $(echo $gens) up after $(elapsed "$t0")s"
}

cmd_down() {
  local g h waits=() w
  [ -d "$GDIR" ] || return 0
  # with no argument, every host this script may have started
  [ $# -gt 0 ] || set -- all "$SPARE"
  for g in $(gens_of "$@"); do
    for h in $(gen_hosts "$g"); do
      stop_host "$h" &
      waits+=($!)
    done
  done
  for w in "${waits[@]}"; do wait "$w" || true; done
  # the PKI goes with the last host
  compgen -G "$GDIR/[C-H]/launcher.pid" >/dev/null || rm -rf "$GDIR"
  say "down: $(gens_of "$@" | xargs)"
}

cmd_status() {
  local g h rc=0
  for g in $(gens_of "$@"); do
    for h in $(gen_hosts "$g"); do
      if host_up "$h"; then echo "host $h ($g): up (pid $(host_pid "$h"), $(tcp_uri "$h"))"; else
        echo "host $h ($g): down"
        rc=1
      fi
    done
  done
  return $rc
}

gen_is_up() { # every host of GEN was started and its daemon lives (no RPC: `env` must be quick)
  local h
  for h in $(gen_hosts "$1"); do host_ours "$h" || return 1; done
}

cmd_env() {
  local g h up=() d r G
  for g in "${GENS[@]}" "$SPARE"; do gen_is_up "$g" && up+=("$g"); done
  emit VIRTWIRE_GEN_DIR "$GDIR"
  [ ${#up[@]} -gt 0 ] || return 0
  emit VIRTWIRE_GEN_PKI_CLIENT "$PKI_DIR/client"
  for g in "${up[@]}"; do
    G=$(tr a-z A-Z <<<"$g")
    r=$(root_of "$g")
    emit "VIRTWIRE_GEN_${G}_HOSTS" "$(gen_hosts "$g")"
    emit "VIRTWIRE_GEN_${G}_LIBVIRT" "$(root_version "$g" libvirt)"
    emit "VIRTWIRE_GEN_${G}_QEMU" "$(root_version "$g" qemu)"
    emit "VIRTWIRE_GEN_${G}_ROOT" "$r"
    for h in $(gen_hosts "$g"); do
      d=$(hdir "$h")
      emit "VIRTWIRE_HOST_${h}_ADDR" "$(host_addr "$h")"
      emit "VIRTWIRE_HOST_${h}_PORT" "$PORT"
      emit "VIRTWIRE_HOST_${h}_UUID" "$(host_uuid "$h")"
      emit "VIRTWIRE_HOST_${h}_TCP" "$(tcp_uri "$h")"
      emit "VIRTWIRE_HOST_${h}_UNIX" "qemu+unix:///system?socket=$(host_sock "$h")"
      emit "VIRTWIRE_HOST_${h}_SOCKET" "$(host_sock "$h")"
      emit "VIRTWIRE_HOST_${h}_ADMIN_SOCKET" "$d/run/libvirt-admin-sock"
      emit "VIRTWIRE_HOST_${h}_PIDFILE" "$d/run/libvirtd.pid"
      emit "VIRTWIRE_HOST_${h}_TEST" "test+tcp://$(host_addr "$h")/default"
      emit "VIRTWIRE_HOST_${h}_TLS" "qemu+tls://$(host_addr "$h")/system?pkipath=$PKI_DIR/client"
      emit "VIRTWIRE_HOST_${h}_MIGRATION_ADDR" "$(host_addr "$h")"
    done
  done
}

# run GEN CMD...: CMD inside the generation's root, as its daemons see the machine (its /tmp,
# /etc/hosts and network), with the caller's VIRTWIRE_* variables: e.g. that generation's own
# virsh or python3-libvirt as a client of any host
cmd_run() {
  local g r
  [ $# -ge 2 ] || die "usage: $0 run GEN CMD..."
  g=$(gens_of "$1")
  [ "$(wc -w <<<"$g")" = 1 ] || die "run takes one generation, not: $g"
  shift
  with_build_lock build_or_check "$g"
  r=$(root_of "$g")
  local vars=()
  mapfile -t vars < <(env | grep '^VIRTWIRE_' || true)
  unshare --mount --propagation private -- /bin/sh -ec '
    r=$1; shift
    mount -t proc proc "$r/proc"; mount --rbind /sys "$r/sys"; mount --rbind /dev "$r/dev"
    mount --rbind /tmp "$r/tmp"
    mount --bind /etc/hosts "$r/etc/hosts"; mount --bind /etc/resolv.conf "$r/etc/resolv.conf"
    exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
  ' sh "$r" "${vars[@]}" "$@"
}

close_inherited_fds

case "${1:-}" in
roots | up | down | status | env | run)
  c=$1
  shift
  "cmd_$c" "$@"
  ;;
*)
  echo "usage: $0 roots|up|down|status|env [trixie|backports|spare|VERSION|all ...] | run GEN CMD..." >&2
  exit 2
  ;;
esac
