# hosts-common.sh: what scripts/test-hosts.sh and scripts/gen-hosts.sh share (sourced, not run).
# Timing and logging, PID bookkeeping that never acts on a PID we did not record, `env` output,
# certificates, and the memory-dirtying guest. The sourcing script sets SAY_TAG (its log prefix).

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
say() { echo "[${SAY_TAG:-hosts} $(date +%T)] $*"; }
die() {
  echo "[${SAY_TAG:-hosts}] error: $*" >&2
  exit 1
}

read_pid() { if [ -s "$1" ]; then tr -dc '0-9' <"$1"; fi; }

# alive PID: running, and not a zombie waiting for a PID 1 that may never reap it (containers)
alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# in_ns PID NS_FILE: PID is alive and lives in the mount namespace recorded in NS_FILE (a recycled
# PID never does); with no namespace recorded yet (the daemon died during `up`) the pid file is
# trusted
in_ns() {
  [ -n "$1" ] && alive "$1" || return 1
  [ -s "$2" ] || return 0
  local ns
  ns=$(readlink "/proc/$1/ns/mnt" 2>/dev/null) || return 1
  # one line per daemon start: the QEMUs of a restarted daemon live in the first one's namespace
  grep -qxF "$ns" "$2"
}

# term_then_kill PID...: SIGTERM, give them 5 s (libvirtd needs ~2 s), then SIGKILL survivors
# (named on stdout); only ever called with PIDs checked to be ours
term_then_kill() {
  local p i left=()
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for i in $(seq 50); do
    left=()
    for p in "$@"; do alive "$p" && left+=("$p"); done
    [ ${#left[@]} -eq 0 ] && return 0
    sleep 0.1
  done
  say "SIGKILL to survivors ${left[*]}"
  kill -KILL "${left[@]}" 2>/dev/null || true
}

# qemu_pids RUN_DIR: the QEMUs of the daemon whose /run/libvirt is RUN_DIR. libvirt writes
# <domain>.pid next to the <domain>.xml status file; driver.pid there is libvirtd's own lock, hence
# the pairing and the executable check.
qemu_pids() {
  local f p
  for f in "$1"/qemu/*.pid; do
    [ -e "${f%.pid}.xml" ] || continue
    p=$(read_pid "$f")
    case $(readlink "/proc/$p/exe" 2>/dev/null) in
    */qemu-system-*) echo "$p" ;;
    esac
  done
}

# pkg_version PACKAGE: the upstream version of an installed Debian package (1:7.2+dfsg-7 -> 7.2)
pkg_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null | sed -E 's/^[0-9]+://; s/[+~-].*$//'; }

port_taken() { (exec 3<>"/dev/tcp/$1/${2:-$PORT}") 2>/dev/null; } # port_taken ADDR [PORT]

SHELL_SAFE='^[A-Za-z0-9_./:+?=@%,-]*$'
emit() { # NAME VALUE: quote only when the value would not survive `eval`/`source` as is
  if [[ $2 =~ $SHELL_SAFE ]]; then
    echo "$1=$2"
  else
    echo "$1='${2//\'/\'\\\'\'}'"
  fi
}

# Daemons we start must not inherit the caller's descriptors: a lock taken with
# `flock FILE scripts/test-hosts.sh up` would otherwise stay held for as long as they live.
close_inherited_fds() {
  local fd
  for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

# ---------------------------------------------------------------------------------------------
# certificates (certtool), made under PKI_DIR (set by the sourcing script): certtool's chatter goes
# to PKI_DIR/certtool.log, templates to PKI_DIR/tmpl

certtool_quiet() {
  certtool "$@" >>"$PKI_DIR/certtool.log" 2>&1 || {
    tail -n 20 "$PKI_DIR/certtool.log" >&2
    die "certtool $* failed"
  }
}

# mkcert NAME CA_DIR KEY OUT TEMPLATE: a certificate for KEY, signed by the CA in CA_DIR
mkcert() {
  local name=$1 ca=$2 key=$3 out=$4
  local tmpl="$PKI_DIR/tmpl/$name.cfg"
  mkdir -p "$PKI_DIR/tmpl"
  printf '%s\n' "$5" >"$tmpl"
  certtool_quiet --generate-certificate --load-privkey "$key" --load-ca-certificate "$ca/cacert.pem" \
    --load-ca-privkey "$ca/cakey.pem" --template "$tmpl" --outfile "$out"
}

mkca() { # mkca DIR CN: a self-signed CA in DIR/{cacert,cakey}.pem
  certtool_quiet --generate-privkey --key-type=ecdsa --outfile "$1/cakey.pem"
  printf '%s\n' "cn = \"$2\"" ca cert_signing_key 'expiration_days = 3650' >"$1/ca.cfg"
  certtool_quiet --generate-self-signed --load-privkey "$1/cakey.pem" --template "$1/ca.cfg" \
    --outfile "$1/cacert.pem"
}

# ---------------------------------------------------------------------------------------------
# the guest

# One guest directory for every host of every generation: the generations' roots mount it at this
# same path, because a migration's destination QEMU opens the kernel the source's XML names. Its two
# small files outlive `down` (a host of another generation may still run the guest).
GUEST_DIR=${VIRTWIRE_GUEST_DIR:-${TMPDIR:-/tmp}/virtwire-guest}

# write_guest: GUEST_DIR/dirty.mb and GUEST_DIR/guest.xml (a definable domain that boots it),
# replaced only when they differ, and then atomically: a QEMU may be reading them
write_guest() {
  local g=$GUEST_DIR f
  mkdir -p "$g"
  make_guest "$g/.new.$$"
  for f in dirty.mb guest.xml; do
    if cmp -s "$g/.new.$$/$f" "$g/$f"; then rm "$g/.new.$$/$f"; else mv "$g/.new.$$/$f" "$g/$f"; fi
  done
  rmdir "$g/.new.$$"
}

make_guest() { # make_guest DIR: the guest's files in DIR, naming GUEST_DIR as the kernel's place
  # A 58-byte multiboot kernel, so tests need no OS image. 32-byte multiboot header using the
  # a.out kludge (QEMU's -kernel loads it at 1 MiB and enters it in 32-bit flat mode), then a loop
  # writing a counter into every 4 KiB page from 2 MiB to 48 MiB, forever: 46 MiB stay dirty, so
  # pre-copy at low bandwidth never converges, and the counter at 0x200000 shows the guest runs.
  local hex="" g=$1
  # header, little-endian words
  hex+='02b0ad1b'     # magic 0x1BADB002
  hex+='00000100'     # flags 0x00010000: load addresses come from this header
  hex+='fe4f51e4'     # checksum: -(magic + flags) mod 2^32 = 0xE4514FFE
  hex+='00001000'     # header_addr 0x100000 (this header is the first byte of the image)
  hex+='00001000'     # load_addr 0x100000
  hex+='00000000'     # load_end_addr 0: load the whole file
  hex+='00000000'     # bss_end_addr 0: no bss
  hex+='20001000'     # entry 0x100020: the code right after this header
  # code, offsets from the start of the file
  hex+='31c0'         # 0x20       xor eax, eax
  hex+='40'           # 0x22  L1:  inc eax
  hex+='bf00002000'   # 0x23       mov edi, 0x200000
  hex+='8907'         # 0x28  L2:  mov [edi], eax
  hex+='81c700100000' # 0x2a       add edi, 0x1000
  hex+='81ff00000003' # 0x30       cmp edi, 0x3000000
  hex+='72f0'         # 0x36       jb L2  (rel8 -0x10: 0x38 -> 0x28)
  hex+='ebe8'         # 0x38       jmp L1 (rel8 -0x18: 0x3a -> 0x22)
  mkdir -p "$g"
  printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" >"$g/dirty.mb"
  [ "$(stat -c %s "$g/dirty.mb")" = 58 ] || die "guest kernel is not 58 bytes"

  # Directly definable; tests substitute <name> (and add a <uuid>) to get distinct guests.
  # type='qemu' (TCG) works with or without /dev/kvm; no disks, NICs, USB or balloon to set up.
  cat >"$g/guest.xml" <<EOF
<domain type='qemu'>
  <name>virtwire-guest</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST_DIR/dirty.mb</kernel>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='pty'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}
