#!/usr/bin/env bash
# test-hosts.sh: two real, independent libvirt hosts ("A" and "B") on this one machine, for
# virtwire's integration tests, end-to-end migration tests, benchmarks and fixture capture.
#
#   scripts/test-hosts.sh install   # packages + the libvirt-qemu account (root, Debian 12)
#   scripts/test-hosts.sh up        # configure and start both daemons; idempotent
#   scripts/test-hosts.sh down      # stop guests, QEMUs and daemons we started (by PID); rm state
#   scripts/test-hosts.sh status    # exit 0 only when both hosts, A's TLS listener and sshd answer
#   scripts/test-hosts.sh env       # shell-assignable VIRTWIRE_* lines for the tests
#   scripts/test-hosts.sh up-gen [GEN...]   # hosts of newer libvirt generations (scripts/gen-hosts.sh:
#                                           # C, D: libvirt 11.3; E, F: libvirt 12.x); env lists them
#   scripts/test-hosts.sh down-gen [GEN...] # stop them; `down` leaves them alone (they are independent)
#   scripts/test-hosts.sh status-gen|roots-gen [GEN...]
#   scripts/test-hosts.sh up-sasl   # optional host S: a libvirtd demanding SASL (see below)
#   scripts/test-hosts.sh down-sasl # stop host S (by PID), remove its state; `down` does it too
#   scripts/test-hosts.sh up-polkit   # optional host P: a libvirtd whose unix sockets demand polkit
#   scripts/test-hosts.sh down-polkit # stop host P's libvirtd, polkitd and D-Bus (by PID); `down` too
#   scripts/test-hosts.sh kill-daemon A|B    # SIGKILL that host's libvirtd (its QEMU guests live on)
#   scripts/test-hosts.sh restart-daemon A|B # start it again after kill-daemon (it finds its guests)
#   scripts/test-hosts.sh kill-guest A|B NAME # SIGKILL the QEMU of guest NAME on that host (with
#                                            # kill-daemon: the host is lost, not just its daemon)
#   scripts/test-hosts.sh stop-daemon A|B    # SIGSTOP it (frozen: connections stay up, nothing answers)
#   scripts/test-hosts.sh cont-daemon A|B    # SIGCONT it
#
# Environment:
#   VIRTWIRE_HOSTS_DIR    state directory (default ${TMPDIR:-/tmp}/virtwire-hosts)
#   VIRTWIRE_CAPS_CACHE   persistent QEMU capabilities seed (default /var/tmp/virtwire-qemu-caps)
#   VIRTWIRE_UP_TIMEOUT   seconds to wait for each daemon (default 90)
#   VIRTWIRE_LIBVIRTD     daemon binary (default /usr/sbin/libvirtd)
#   VIRTWIRE_SSHD         sshd binary for host A (default /usr/sbin/sshd)
#   VIRTWIRE_SASL_DIR     host S's state directory (default $VIRTWIRE_HOSTS_DIR-sasl)
#   VIRTWIRE_SASL_PASSWORD  password of host S's SASL user alice (default wonderland-42)
#   VIRTWIRE_SSH_PASSWORD root's password on sshd's port 2223, inside A's namespace only
#                         (default virtwire-ssh-42)
#
# Layout of a host: $DIR/<host>/{etc,run,lib,cache,log} are bind-mounted, inside a private mount
# namespace owned by that host's libvirtd, over /etc/libvirt, /run/libvirt, /var/lib/libvirt,
# /var/cache/libvirt and /var/log/libvirt. Nothing of the machine's own libvirt state is touched,
# and the two daemons cannot see each other's domains, caches or pid files.
#
# Host A also has the remote transports: a TLS listener on 127.0.0.1:16514 (certificates made by
# certtool under $DIR/pki, client certificate required, auth "none"), and an sshd on
# 127.0.0.1:2222 running inside A's mount namespace, so that virt-ssh-helper and `nc -U
# /run/libvirt/libvirt-sock` on the "remote" side reach A's daemon. $DIR/pki also holds the
# certificates of the TLS refusal tests (wrong CA, wrong host name, expired).
#
# Host S (up-sasl) is a third, independent libvirtd on 127.0.0.4 whose every listener demands
# SASL (Cyrus with its own SASL_CONF_PATH and sasldb holding user alice): TCP, where libvirt only
# allows a mechanism with a security layer of SSF >= 56 (DIGEST-MD5 auth-conf); its unix sockets;
# and TLS on 16514 when A's PKI exists (a server certificate for 127.0.0.4 from A's CA). It has
# its own state directory, so it comes and goes independently of A and B; `down` stops it too.
#
# Host P (up-polkit) is a fourth libvirtd, unix sockets only, with auth_unix_rw/ro = "polkit". Its
# mount namespace also holds a private D-Bus system bus and a real polkitd, with libvirt's two
# actions registered and one rule: allowed while $VIRTWIRE_POLKIT_DIR/allow exists, denied
# otherwise. libvirtd skips polkit for uid 0, so only a non-root client is ever asked.
set -euo pipefail

DIR=${VIRTWIRE_HOSTS_DIR:-${TMPDIR:-/tmp}/virtwire-hosts}
PKI_DIR=$DIR/pki
CAPS_CACHE=${VIRTWIRE_CAPS_CACHE:-/var/tmp/virtwire-qemu-caps}
UP_TIMEOUT=${VIRTWIRE_UP_TIMEOUT:-90}
PORT=16509
TLS_PORT=16514
SSH_PORT=2222
SSH_PW_PORT=2223 # the same sshd: root logs in here with a password (password, keyboard-interactive)
SSH_PASSWORD=${VIRTWIRE_SSH_PASSWORD:-virtwire-ssh-42}
SSH_KEY_PASSPHRASE=virtwire-key-42 # of $DIR/ssh/client_key_enc
SSH_ADDR=127.0.0.1 # host A's address: sshd lives in A's mount namespace
SSHD=${VIRTWIRE_SSHD:-/usr/sbin/sshd}
HOSTS=(A B)
GEN_HOSTS="$(dirname "${BASH_SOURCE[0]}")/gen-hosts.sh"
LIBVIRTD=${VIRTWIRE_LIBVIRTD:-/usr/sbin/libvirtd}

PACKAGES=(
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
  python3-libvirt tshark libvirt-wireshark openssh-server gnutls-bin sasl2-bin
  libsasl2-modules netcat-openbsd xz-utils polkitd dbus-daemon dbus-bin openssl
  tmux chromium # the CLI's live line in a real pty (test/e2e/cli-tmux), charts in a browser
  libvirt-dev pkg-config gcc # bench/rpc.ts compiles its C-client baseline against libvirt.so
)

# Per-host facts. Migration refuses a destination with the source's host UUID, so each host has
# its own. libvirt rejects exactly 127.0.0.1 as migration_address ("address of the local machine"),
# hence 127.0.0.3 for the host listening on 127.0.0.1. Disjoint port ranges keep two incoming
# migrations from racing for one port.
host_addr() { case $1 in A) echo 127.0.0.1 ;; B) echo 127.0.0.2 ;; esac; }
host_uuid() { case $1 in A) echo 7669727a-0000-4000-8000-00000000000a ;; B) echo 7669727a-0000-4000-8000-00000000000b ;; esac; }
host_mig_addr() { case $1 in A) echo 127.0.0.3 ;; B) echo 127.0.0.2 ;; esac; }
host_mig_ports() { case $1 in A) echo "49152 49183" ;; B) echo "49184 49215" ;; esac; }
host_sock() { echo "$DIR/$1/sock/libvirt-sock"; }
tcp_uri() { echo "qemu+tcp://$(host_addr "$1")/system"; }
unix_uri() { echo "qemu+unix:///system?socket=$(host_sock "$1")"; }
tls_uri() { echo "qemu+tls://$(host_addr A)/system?pkipath=$DIR/pki/client"; }
test_uri() { echo "test+tcp://$(host_addr "$1")/default"; }

SAY_TAG=test-hosts
# shellcheck source=lib/hosts-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/hosts-common.sh"

# ---------------------------------------------------------------------------------------------
# install

cmd_install() {
  local missing=() p
  # one dpkg-query for all packages: `up` runs this every time
  mapfile -t missing < <(
    dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
      awk -v want="${PACKAGES[*]}" '$NF == "installed" { ok[$1] = 1 }
        END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!ok[w[i]]) print w[i] }'
  )
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}) and not root"
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  # The QEMU driver looks up its built-in default account before it reads qemu.conf, so it refuses
  # to load without libvirt-qemu even though our qemu.conf runs QEMU as root. We avoid
  # libvirt-daemon-system (which would create it) because it drags in polkit, firewall and init
  # scripts that have no place on a test machine.
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd --system -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
}

# ---------------------------------------------------------------------------------------------
# process bookkeeping: every PID we act on comes from a file written by `up` (or by our libvirtd),
# and is checked to still live in the mount namespace we recorded, so a recycled PID is never hit.

# ours HOST PID: true when PID is alive and lives in HOST's private mount namespace
ours() { in_ns "$2" "$DIR/$1/mntns"; }

daemon_pids() { # daemon_pids HOST: launcher and libvirtd (usually the same process, see launch_ns)
  local p
  for p in "$(read_pid "$DIR/$1/launcher.pid")" "$(read_pid "$DIR/$1/libvirtd.pid")"; do
    if [ -n "$p" ]; then echo "$p"; fi
  done | sort -u
}

# stop_pids HOST PID...: those of the PIDs that live in HOST's namespace, stopped
stop_pids() {
  local h=$1 p
  shift
  local pids=()
  for p in "$@"; do ours "$h" "$p" && pids+=("$p"); done
  term_then_kill "${pids[@]}"
}

answers() { timeout 10 virsh -q -c "$(tcp_uri "$1")" version >/dev/null 2>&1; }

daemon_alive() {
  local p
  for p in $(daemon_pids "$1"); do alive "$p" && return 0; done
  return 1
}

host_up() { # a daemon we started is alive and answers RPCs
  local p
  for p in $(daemon_pids "$1"); do
    ours "$1" "$p" && answers "$1" && return 0
  done
  return 1
}

# ---------------------------------------------------------------------------------------------
# up

write_host_config() {
  local h=$1 d="$DIR/$1" mig pmin pmax
  mig=$(host_mig_addr "$h")
  read -r pmin pmax <<<"$(host_mig_ports "$h")"
  mkdir -p "$d"/{etc,run,lib,cache,log,sock}
  # The daemon's sockets live in $d/sock (reachable from outside the namespace); inside it, clients
  # that use the default path (virt-ssh-helper, `nc -U /run/libvirt/libvirt-sock` over ssh) find
  # them through these links, since $d/run is mounted over /run/libvirt there.
  ln -sfn "$d/sock/libvirt-sock" "$d/run/libvirt-sock"
  ln -sfn "$d/sock/libvirt-sock-ro" "$d/run/libvirt-sock-ro"
  # Only A listens for TLS; the daemon checks client certificates against our CA (the default).
  local tls='listen_tls = 0'
  if [ "$h" = A ]; then
    tls="listen_tls = 1
tls_port = \"$TLS_PORT\"
auth_tls = \"none\"
ca_file = \"$DIR/pki/ca/cacert.pem\"
cert_file = \"$DIR/pki/server/servercert.pem\"
key_file = \"$DIR/pki/server/serverkey.pem\""
  fi
  # the client library also reads /etc/libvirt/libvirt.conf inside the namespace (aliases, default URI)
  if [ -f /etc/libvirt/libvirt.conf ]; then cp /etc/libvirt/libvirt.conf "$d/etc/"; fi

  # auth "none" everywhere for now; SASL/TLS variants will get their own hosts.
  # Workers and per-client request limits are raised well above the defaults (5 requests per
  # client) so benchmarks measure virtwire's pipelining, not the daemon's queue.
  cat >"$d/etc/libvirtd.conf" <<EOF
$tls
listen_tcp = 1
listen_addr = "$(host_addr "$h")"
tcp_port = "$PORT"
auth_tcp = "none"
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_dir = "$d/sock"
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
log_outputs = "3:file:$d/libvirtd.log"
EOF

  write_qemu_conf "$d" "migration_address = \"$mig\"" "migration_host = \"$mig\"" \
    "migration_port_min = $pmin" "migration_port_max = $pmax"

  # The mount namespace runs this script: bind the host's directories over libvirt's fixed paths,
  # then become libvirtd (exec keeps the PID, so launcher.pid == libvirtd's PID).
  cat >"$d/launch.sh" <<EOF
#!/bin/bash
set -e
$(libvirt_binds "$d")
exec $LIBVIRTD --listen -f '$d/etc/libvirtd.conf' -p '$d/libvirtd.pid'
EOF
}

# Every host's qemu.conf: root QEMU (no need for the libvirt-qemu account to own anything),
# stdio_handler=file (no virtlogd), no cgroup controllers (two daemons would otherwise fight over
# one cgroup path); then the extra lines given.
write_qemu_conf() { # write_qemu_conf STATE_DIR [LINE...]
  local d=$1
  shift
  printf '%s\n' 'user = "root"' 'group = "root"' 'stdio_handler = "file"' \
    'cgroup_controllers = [ ]' "$@" >"$d/etc/qemu.conf"
}

# The launch.sh lines that bind a host's directories over libvirt's fixed paths.
libvirt_binds() { # libvirt_binds STATE_DIR
  local pair
  for pair in etc:/etc/libvirt run:/run/libvirt lib:/var/lib/libvirt cache:/var/cache/libvirt \
    log:/var/log/libvirt; do
    echo "mount --bind '$1/${pair%%:*}' ${pair#*:}"
  done
}

seed_caps() { # seed_caps FROM_DIR STATE_DIR: FROM_DIR/capabilities/*.xml -> that host's QEMU cache
  local from=$1 to="$2/cache/qemu"
  compgen -G "$from/capabilities/*.xml" >/dev/null || return 1
  mkdir -p "$to"
  cp -a "$from/capabilities" "$to/"
}

save_caps_seed() { # keep A's (re)validated cache for the next run; swap in atomically
  local src="$DIR/A/cache/qemu/capabilities" tmp
  compgen -G "$src/*.xml" >/dev/null || return 0
  mkdir -p "$(dirname "$CAPS_CACHE")"
  tmp=$(mktemp -d "$CAPS_CACHE.new.XXXXXX")
  cp -a "$src" "$tmp/"
  rm -rf "$CAPS_CACHE"
  mv "$tmp" "$CAPS_CACHE"
}

# await_launch NAME STATE_DIR T0 READY WAITING_FOR DOWN_CMD LOG...: polls READY (a
# command) every 0.1 s until it succeeds; dies with the logs when the launcher
# of STATE_DIR exits first, or after UP_TIMEOUT seconds since T0.
await_launch() {
  local name=$1 dir=$2 t0=$3 ready=$4 waiting=$5 down=$6
  shift 6
  until $ready; do
    if ! alive "$(read_pid "$dir/launcher.pid")"; then
      tail -n 25 "$@" >&2 2>/dev/null || true
      die "host $name exited during startup (logs above; '$0 $down' cleans up)"
    fi
    if [ "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print int(b - a) }')" -ge "$UP_TIMEOUT" ]; then
      die "host $name did not $waiting within ${UP_TIMEOUT}s ('$0 $down' cleans up)"
    fi
    sleep 0.1
  done
}

launch_ns() { # launch_ns STATE_DIR: STATE_DIR/launch.sh in a private mount namespace
  local d=$1
  # the bind targets must exist in the parent namespace too
  mkdir -p /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
  # setsid: the daemon leaves our session, so a Ctrl-C or a closed terminal does not reach it.
  # A background job of a script is never a process-group leader, so setsid does not fork and
  # $! stays the PID that unshare, bash and finally libvirtd exec into.
  setsid unshare --mount --propagation private /bin/bash "$d/launch.sh" \
    >"$d/stdout.log" 2>&1 </dev/null &
  echo $! >"$d/launcher.pid"
}

show_logs() {
  local h=$1 f
  for f in "$DIR/$h/stdout.log" "$DIR/$h/libvirtd.log"; do
    if [ -s "$f" ]; then
      echo "----- tail of $f" >&2
      tail -n 25 "$f" >&2
    fi
  done
}

wait_ready() {
  local h=$1 t0 p
  t0=$(date +%s)
  until answers "$h"; do
    if ! daemon_alive "$h"; then
      show_logs "$h"
      die "libvirtd for host $h exited during startup (logs above; '$0 down' cleans up)"
    fi
    if [ $(($(date +%s) - t0)) -ge "$UP_TIMEOUT" ]; then
      show_logs "$h"
      die "host $h did not answer on $(tcp_uri "$h") within ${UP_TIMEOUT}s (logs above; '$0 down' cleans up)"
    fi
    sleep 0.1
  done
  # remember the namespace: from now on a PID only counts as ours if it lives there
  p=$(read_pid "$DIR/$h/libvirtd.pid")
  readlink "/proc/$p/ns/mnt" >"$DIR/$h/mntns"
}


# ---------------------------------------------------------------------------------------------
# TLS certificates (certtool) and sshd, for the remote transports of host A

# wait_jobs PID...: wait for these jobs (by PID: a bare `wait` would also wait for daemons we started)
wait_jobs() {
  local w rc=0
  for w in "$@"; do wait "$w" || rc=1; done
  [ $rc = 0 ] || die "certificate generation failed (see $DIR/pki/certtool.log)"
}

write_pki() {
  local p="$DIR/pki" pids=()
  mkdir -p "$p"/{tmpl,ca,wrong-ca,server,client,wrongca,wrongclient,nocert,bad}
  # CAs get ECDSA keys (fast). Leaf certificates need RSA: libvirt refuses a certificate whose
  # critical key usage lacks key encipherment, and certtool leaves that out for ECDSA keys. One
  # server key serves every server certificate and one client key every client certificate.
  # Independent steps run in parallel: most of the time is certtool starting up.
  certtool_quiet --generate-privkey --key-type=rsa --bits=2048 --outfile "$p/server/serverkey.pem" &
  pids+=($!)
  certtool_quiet --generate-privkey --key-type=rsa --bits=2048 --outfile "$p/client/clientkey.pem" &
  pids+=($!)
  mkca "$p/ca" "virtwire test CA" &
  pids+=($!)
  mkca "$p/wrong-ca" "virtwire unrelated CA" &
  pids+=($!)
  wait_jobs "${pids[@]}"

  local server='tls_www_server
encryption_key
signing_key'
  local client='tls_www_client
encryption_key
signing_key
expiration_days = 3650'
  pids=()
  # host A's daemon: the names clients use for it
  mkcert server "$p/ca" "$p/server/serverkey.pem" "$p/server/servercert.pem" "cn = \"localhost\"
dns_name = \"localhost\"
ip_address = \"$(host_addr A)\"
expiration_days = 3650
$server" &
  pids+=($!)
  mkcert client "$p/ca" "$p/client/clientkey.pem" "$p/client/clientcert.pem" "cn = \"virtwire test client\"
$client" &
  pids+=($!)
  # a client certificate from the unrelated CA, for the daemon to refuse
  mkcert wrongclient "$p/wrong-ca" "$p/client/clientkey.pem" "$p/wrongclient/clientcert.pem" \
    "cn = \"virtwire untrusted client\"
$client" &
  pids+=($!)
  # refused by clients: a certificate for another host name only, and an expired one
  mkcert badname "$p/ca" "$p/server/serverkey.pem" "$p/bad/badname-cert.pem" "cn = \"other.example\"
dns_name = \"other.example\"
expiration_days = 3650
$server" &
  pids+=($!)
  mkcert expired "$p/ca" "$p/server/serverkey.pem" "$p/bad/expired-cert.pem" "cn = \"localhost\"
dns_name = \"localhost\"
ip_address = \"$(host_addr A)\"
activation_date = \"2020-01-01 00:00:00\"
expiration_date = \"2021-01-01 00:00:00\"
$server" &
  pids+=($!)
  wait_jobs "${pids[@]}"
  cp "$p/server/serverkey.pem" "$p/bad/badname-key.pem"
  cp "$p/server/serverkey.pem" "$p/bad/expired-key.pem"

  # pkipath= layouts (cacert.pem, clientcert.pem, clientkey.pem):
  #   client       our CA and a good client certificate
  #   wrongca      the unrelated CA (the daemon's certificate cannot be verified), good client cert
  #   wrongclient  our CA, a client certificate the daemon does not trust
  #   nocert       our CA only: no client certificate at all
  cp "$p/ca/cacert.pem" "$p/client/"
  cp "$p/wrong-ca/cacert.pem" "$p/wrongca/"
  cp "$p/client/clientcert.pem" "$p/client/clientkey.pem" "$p/wrongca/"
  cp "$p/ca/cacert.pem" "$p/client/clientkey.pem" "$p/wrongclient/"
  cp "$p/ca/cacert.pem" "$p/nocert/"
  chmod 600 "$p"/*/*key.pem
}

write_ssh() {
  local s="$DIR/ssh"
  mkdir -p "$s"
  ssh-keygen -q -t ed25519 -N '' -C virtwire-test-host -f "$s/host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -C virtwire-test-client -f "$s/client_key"
  # an encrypted client key too, for the passphrase prompt of the in-process transports
  ssh-keygen -q -t ed25519 -N "$SSH_KEY_PASSPHRASE" -C virtwire-test-client-enc -f "$s/client_key_enc"
  cat "$s/client_key.pub" "$s/client_key_enc.pub" >"$s/authorized_keys"
  {
    echo "[$SSH_ADDR]:$SSH_PORT $(cut -d' ' -f1,2 "$s/host_ed25519_key.pub")"
    echo "[$SSH_ADDR]:$SSH_PW_PORT $(cut -d' ' -f1,2 "$s/host_ed25519_key.pub")"
  } >"$s/known_hosts"
  # Port 2222: root logs in with the key only. Port 2223: with a password only, through PAM
  # (password and keyboard-interactive). The password lives in a copy of /etc/shadow and the PAM
  # stack in our own file, both bind-mounted in A's namespace only (see start_sshd): the
  # machine's accounts are not touched. No privilege checks on our files under /tmp.
  cat >"$s/sshd_config" <<EOF
Port $SSH_PORT
Port $SSH_PW_PORT
ListenAddress $SSH_ADDR
HostKey $s/host_ed25519_key
AuthorizedKeysFile $s/authorized_keys
PidFile none
UsePAM yes
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
X11Forwarding no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
Match LocalPort $SSH_PW_PORT
  PermitRootLogin yes
  PubkeyAuthentication no
  PasswordAuthentication yes
  KbdInteractiveAuthentication yes
EOF
  printf '%s\n' 'auth required pam_unix.so' 'account required pam_unix.so' \
    'session required pam_permit.so' 'password required pam_deny.so' >"$s/pam-sshd"
  local hash
  hash=$(printf '%s' "$SSH_PASSWORD" | openssl passwd -6 -stdin)
  awk -F: -v OFS=: -v h="$hash" '$1 == "root" { $2 = h } { print }' /etc/shadow >"$s/shadow"
  chmod 600 "$s/shadow"
  # The system ssh with only our files: no user or system configuration, our known_hosts. For
  # the ssh transport's command= parameter (libvirt's ssh transport has no known_hosts=).
  cat >"$s/ssh" <<EOF
#!/bin/sh
exec ssh -F /dev/null -o UserKnownHostsFile='$s/known_hosts' -o GlobalKnownHostsFile=/dev/null "\$@"
EOF
  chmod 755 "$s/ssh"
}

start_sshd() {
  local s="$DIR/ssh" a
  a=$(read_pid "$DIR/A/libvirtd.pid")
  [ -n "$a" ] || die "host A has no daemon PID; cannot start sshd in its namespace"
  # privilege separation directory; /run itself is shared with host A's namespace
  mkdir -p /run/sshd
  # nsenter joins A's mount namespace; there our shadow and PAM files cover the machine's, then
  # the shell execs sshd (same PID, as with launch_ns's setsid)
  setsid nsenter --mount="/proc/$a/ns/mnt" -- /bin/sh -c \
    'mount --bind "$1/shadow" /etc/shadow && mount --bind "$1/pam-sshd" /etc/pam.d/sshd &&
     exec "$2" -D -f "$1/sshd_config" -E "$1/sshd.log"' sh "$s" "$SSHD" \
    >"$s/stdout.log" 2>&1 </dev/null &
  echo $! >"$s/sshd.pid"
}

ssh_answers() { # the SSH banner, not just an open port
  [ "$(timeout 3 bash -c "exec 3<>/dev/tcp/$SSH_ADDR/$SSH_PORT && head -c 4 <&3" 2>/dev/null)" = SSH- ]
}

wait_sshd() {
  local t0 p
  t0=$(date +%s)
  p=$(read_pid "$DIR/ssh/sshd.pid")
  until ssh_answers; do
    if ! alive "$p"; then
      tail -n 25 "$DIR/ssh/sshd.log" "$DIR/ssh/stdout.log" >&2 2>/dev/null || true
      die "sshd exited during startup (logs above; '$0 down' cleans up)"
    fi
    [ $(($(date +%s) - t0)) -lt 15 ] || die "sshd did not answer on $SSH_ADDR:$SSH_PORT within 15s"
    sleep 0.05
  done
}

sshd_up() {
  local p
  p=$(read_pid "$DIR/ssh/sshd.pid")
  ours A "$p" && ssh_answers
}

tls_up() { (exec 3<>"/dev/tcp/$(host_addr A)/$TLS_PORT") 2>/dev/null; }

descendants() { # descendants PID: every process below PID, deepest first
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    descendants "$c"
    echo "$c"
  done
}

stop_sshd() {
  local p pids
  p=$(read_pid "$DIR/ssh/sshd.pid")
  [ -n "$p" ] && ours A "$p" || return 0
  # sessions (and the nc / virt-ssh-helper they run) outlive the listener: collect them first
  mapfile -t pids < <(descendants "$p")
  stop_pids A "$p" "${pids[@]}"
}

cmd_up() {
  local t0 h seeded=no
  t0=$(now)
  [ "$(id -u)" = 0 ] || die "must run as root (private mount namespaces, system libvirtd)"
  if [ -d "$DIR" ]; then
    if host_up A && host_up B && tls_up && sshd_up; then
      say "already up ($DIR)"
      return 0
    fi
    say "stale state in $DIR: cleaning it first"
    cmd_down
  fi
  cmd_install
  for h in "${HOSTS[@]}"; do
    if port_taken "$(host_addr "$h")"; then
      die "$(host_addr "$h"):$PORT is already in use by another process"
    fi
  done
  port_taken "$(host_addr A)" "$TLS_PORT" && die "$(host_addr A):$TLS_PORT is already in use by another process"
  port_taken "$SSH_ADDR" "$SSH_PORT" && die "$SSH_ADDR:$SSH_PORT is already in use by another process"
  port_taken "$SSH_ADDR" "$SSH_PW_PORT" && die "$SSH_ADDR:$SSH_PW_PORT is already in use by another process"

  mkdir -p "$DIR"
  write_guest
  write_pki
  write_ssh
  say "certificates and ssh keys made after $(elapsed "$t0")s"
  for h in "${HOSTS[@]}"; do write_host_config "$h"; done

  # A probes QEMU (~8 s) unless a seed is present; libvirt revalidates the seed (QEMU and libvirtd
  # binaries' timestamps, kernel, microcode) and reprobes by itself if it no longer matches.
  seed_caps "$CAPS_CACHE" "$DIR/A" && seeded=yes
  launch_ns "$DIR/A"
  wait_ready A
  say "host A up after $(elapsed "$t0")s (caps seed: $seeded)"
  start_sshd # in A's namespace; it comes up while B starts
  save_caps_seed
  # B reuses A's fresh cache: same binaries, same machine
  seed_caps "$DIR/A/cache/qemu" "$DIR/B" || true
  launch_ns "$DIR/B"
  wait_ready B
  wait_sshd
  tls_up || die "host A does not listen for TLS on $(host_addr A):$TLS_PORT (see $DIR/A/libvirtd.log)"
  say "hosts A ($(tcp_uri A), $(tls_uri), ssh $SSH_ADDR:$SSH_PORT) and B ($(tcp_uri B)) up after $(elapsed "$t0")s"
}

# ---------------------------------------------------------------------------------------------
# down

cmd_down() {
  local t0 h d waits=() pids
  t0=$(now)
  if [ ! -d "$DIR" ]; then
    say "already down (no $DIR)"
    return 0
  fi
  # Destroy guests through each daemon first (both hosts in parallel), so libvirt cleans up after
  # them; whatever is left afterwards is stopped by PID below.
  for h in "${HOSTS[@]}"; do
    [ -S "$(host_sock "$h")" ] || continue
    for d in $(timeout 10 virsh -q -c "$(unix_uri "$h")" list --name 2>/dev/null); do
      timeout 15 virsh -q -c "$(unix_uri "$h")" destroy "$d" >/dev/null 2>&1 &
      waits+=($!)
    done
  done
  # wait for these clients by PID; a bare `wait` would also wait for any daemon this shell started
  for d in "${waits[@]}"; do wait "$d" || true; done

  for h in "${HOSTS[@]}"; do
    [ -d "$DIR/$h" ] || continue
    mapfile -t pids < <(qemu_pids "$DIR/$h/run")
    if [ ${#pids[@]} -gt 0 ]; then stop_pids "$h" "${pids[@]}"; fi
  done
  stop_sshd
  # both daemons at once: each needs ~2 s to exit on SIGTERM
  waits=()
  for h in "${HOSTS[@]}"; do
    [ -d "$DIR/$h" ] || continue
    mapfile -t pids < <(daemon_pids "$h")
    if [ ${#pids[@]} -gt 0 ]; then
      stop_pids "$h" "${pids[@]}" &
      waits+=($!)
    fi
  done
  for d in "${waits[@]}"; do wait "$d" || true; done
  rm -rf "$DIR"
  say "down after $(elapsed "$t0")s"
}

# ---------------------------------------------------------------------------------------------
# status / env

cmd_status() {
  local h rc=0 p
  for h in "${HOSTS[@]}"; do
    p=$(read_pid "$DIR/$h/libvirtd.pid")
    if host_up "$h"; then
      echo "host $h: up (pid $p, $(tcp_uri "$h"))"
    else
      echo "host $h: down"
      rc=1
    fi
  done
  if tls_up; then echo "tls: up ($(tls_uri))"; else
    echo "tls: down"
    rc=1
  fi
  if sshd_up; then echo "sshd: up (pid $(read_pid "$DIR/ssh/sshd.pid"), $SSH_ADDR:$SSH_PORT)"; else
    echo "sshd: down"
    rc=1
  fi
  return $rc
}

# upstream version of an installed package: 1:7.2+dfsg-7+deb12u7 -> 7.2

cmd_env() {
  local h
  emit VIRTWIRE_HOSTS_DIR "$DIR"
  for h in "${HOSTS[@]}"; do
    emit "VIRTWIRE_HOST_${h}_ADDR" "$(host_addr "$h")"
    emit "VIRTWIRE_HOST_${h}_PORT" "$PORT"
    emit "VIRTWIRE_HOST_${h}_UUID" "$(host_uuid "$h")"
    emit "VIRTWIRE_HOST_${h}_TCP" "$(tcp_uri "$h")"
    emit "VIRTWIRE_HOST_${h}_UNIX" "$(unix_uri "$h")"
    emit "VIRTWIRE_HOST_${h}_SOCKET" "$(host_sock "$h")"
    emit "VIRTWIRE_HOST_${h}_TEST" "$(test_uri "$h")"
    emit "VIRTWIRE_HOST_${h}_MIGRATION_ADDR" "$(host_mig_addr "$h")"
    emit "VIRTWIRE_HOST_${h}_ADMIN_SOCKET" "$DIR/$h/sock/libvirt-admin-sock"
    emit "VIRTWIRE_HOST_${h}_PIDFILE" "$DIR/$h/libvirtd.pid"
  done
  # A and B are the oldest generation of gen-hosts.sh's scheme (its env adds the newer ones)
  emit VIRTWIRE_GEN_BOOKWORM_HOSTS "${HOSTS[*]}"
  emit VIRTWIRE_GEN_BOOKWORM_LIBVIRT "$(pkg_version libvirt-daemon)"
  emit VIRTWIRE_GEN_BOOKWORM_QEMU "$(pkg_version qemu-system-x86)"
  emit VIRTWIRE_HOST_A_TLS "$(tls_uri)"
  emit VIRTWIRE_HOST_A_TLS_PORT "$TLS_PORT"
  emit VIRTWIRE_PKI_CA "$DIR/pki/ca/cacert.pem"
  emit VIRTWIRE_PKI_CLIENT "$DIR/pki/client"
  emit VIRTWIRE_PKI_WRONGCA "$DIR/pki/wrongca"
  emit VIRTWIRE_PKI_WRONGCLIENT "$DIR/pki/wrongclient"
  emit VIRTWIRE_PKI_NOCERT "$DIR/pki/nocert"
  emit VIRTWIRE_TLS_SERVER_CERT "$DIR/pki/server/servercert.pem"
  emit VIRTWIRE_TLS_SERVER_KEY "$DIR/pki/server/serverkey.pem"
  emit VIRTWIRE_TLS_BADNAME_CERT "$DIR/pki/bad/badname-cert.pem"
  emit VIRTWIRE_TLS_BADNAME_KEY "$DIR/pki/bad/badname-key.pem"
  emit VIRTWIRE_TLS_EXPIRED_CERT "$DIR/pki/bad/expired-cert.pem"
  emit VIRTWIRE_TLS_EXPIRED_KEY "$DIR/pki/bad/expired-key.pem"
  emit VIRTWIRE_SSH_ADDR "$SSH_ADDR"
  emit VIRTWIRE_SSH_PORT "$SSH_PORT"
  emit VIRTWIRE_SSH_USER root
  emit VIRTWIRE_SSH_PASSWORD_PORT "$SSH_PW_PORT"
  emit VIRTWIRE_SSH_PASSWORD "$SSH_PASSWORD"
  emit VIRTWIRE_SSH_KEY_ENCRYPTED "$DIR/ssh/client_key_enc"
  emit VIRTWIRE_SSH_KEY_PASSPHRASE "$SSH_KEY_PASSPHRASE"
  emit VIRTWIRE_SSH_KEY "$DIR/ssh/client_key"
  emit VIRTWIRE_SSH_KNOWN_HOSTS "$DIR/ssh/known_hosts"
  emit VIRTWIRE_SSH_COMMAND "$DIR/ssh/ssh"
  emit VIRTWIRE_GUEST_KERNEL "$GUEST_DIR/dirty.mb"
  emit VIRTWIRE_GUEST_XML "$GUEST_DIR/guest.xml"
}

# ---------------------------------------------------------------------------------------------
# host S: SASL everywhere

SDIR=${VIRTWIRE_SASL_DIR:-$DIR-sasl}
S_ADDR=127.0.0.4
SASL_USER=alice
SASL_PASSWORD=${VIRTWIRE_SASL_PASSWORD:-wonderland-42}

s_pid() { read_pid "$SDIR/libvirtd.pid"; }
s_launcher_pid() { read_pid "$SDIR/launcher.pid"; }
# s_ours PID: alive and in S's recorded mount namespace (a recycled PID is never ours)
s_ours() { in_ns "$1" "$SDIR/mntns"; }
s_sock() { echo "$SDIR/sock/libvirt-sock"; }
# Readiness without SASL credentials: the TCP port answering is enough.
s_answers() { (exec 3<>"/dev/tcp/$S_ADDR/$PORT") 2>/dev/null; }
s_tls() { [ -s "$SDIR/pki/servercert.pem" ]; }
s_started() { s_answers && [ -S "$(s_sock)" ] && [ -s "$SDIR/libvirtd.pid" ]; }
# up, and (with TLS) its certificate still from A's current CA: `up` after a `down` makes a new one
sasl_up() {
  local p
  p=$(s_pid)
  s_ours "$p" && s_answers && [ -S "$(s_sock)" ] || return 1
  ! s_tls || cmp -s "$SDIR/pki/cacert.pem" "$DIR/pki/ca/cacert.pem"
}

write_sasl_host() {
  local d=$SDIR tls='listen_tls = 0'
  [ -n "$d" ] || die "no state directory for host S"
  mkdir -p "$d"/{etc,run,lib,cache,log,sock,sasl,pki}
  # Cyrus reads $SASL_CONF_PATH/libvirt.conf (service "libvirt"); users live in our own sasldb.
  cat >"$d/sasl/libvirt.conf" <<EOF
mech_list: digest-md5 scram-sha-256 scram-sha-1 plain
sasldb_path: $d/sasl/passwd.db
EOF
  rm -f "$d/sasl/passwd.db"
  printf '%s' "$SASL_PASSWORD" | saslpasswd2 -c -p -a libvirt -f "$d/sasl/passwd.db" "$SASL_USER"
  # TLS only when A's CA exists (made by `up`): a server certificate for S's address from it.
  if [ -s "$DIR/pki/ca/cakey.pem" ]; then
    printf '%s\n' "cn = \"$S_ADDR\"" "ip_address = \"$S_ADDR\"" 'expiration_days = 3650' \
      tls_www_server encryption_key signing_key >"$d/pki/server.cfg"
    if certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$d/pki/serverkey.pem" \
      >>"$d/pki/certtool.log" 2>&1 &&
      certtool --generate-certificate --load-privkey "$d/pki/serverkey.pem" \
        --load-ca-certificate "$DIR/pki/ca/cacert.pem" --load-ca-privkey "$DIR/pki/ca/cakey.pem" \
        --template "$d/pki/server.cfg" --outfile "$d/pki/servercert.pem" >>"$d/pki/certtool.log" 2>&1; then
      cp "$DIR/pki/ca/cacert.pem" "$d/pki/cacert.pem"
      tls="listen_tls = 1
tls_port = \"$TLS_PORT\"
auth_tls = \"sasl\"
ca_file = \"$d/pki/cacert.pem\"
cert_file = \"$d/pki/servercert.pem\"
key_file = \"$d/pki/serverkey.pem\""
    else
      rm -f "$d/pki/servercert.pem"
    fi
  fi
  cat >"$d/etc/libvirtd.conf" <<EOF
$tls
listen_tcp = 1
listen_addr = "$S_ADDR"
tcp_port = "$PORT"
auth_tcp = "sasl"
auth_unix_rw = "sasl"
auth_unix_ro = "sasl"
unix_sock_dir = "$d/sock"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
host_uuid = "7669727a-0000-4000-8000-00000000005a"
keepalive_interval = 5
keepalive_count = 5
log_outputs = "3:file:$d/libvirtd.log"
EOF
  write_qemu_conf "$d"
  cat >"$d/launch.sh" <<EOF
#!/bin/bash
set -e
$(libvirt_binds "$d")
export SASL_CONF_PATH='$d/sasl'
exec $LIBVIRTD --listen -f '$d/etc/libvirtd.conf' -p '$d/libvirtd.pid'
EOF
}

cmd_up_sasl() {
  local t0
  t0=$(now)
  [ "$(id -u)" = 0 ] || die "must run as root (private mount namespaces, system libvirtd)"
  if [ -d "$SDIR" ]; then
    if sasl_up; then
      say "host S already up ($SDIR)"
      return 0
    fi
    cmd_down_sasl
  fi
  cmd_install
  port_taken "$S_ADDR" && die "$S_ADDR:$PORT is already in use by another process"
  port_taken "$S_ADDR" "$TLS_PORT" && die "$S_ADDR:$TLS_PORT is already in use by another process"
  write_sasl_host
  # S only serves the test driver; a QEMU capabilities seed spares it a probe if one exists.
  seed_caps "$CAPS_CACHE" "$SDIR" || true
  launch_ns "$SDIR"
  await_launch S "$SDIR" "$t0" s_started "answer on $S_ADDR:$PORT" down-sasl \
    "$SDIR/stdout.log" "$SDIR/libvirtd.log"
  readlink "/proc/$(s_pid)/ns/mnt" >"$SDIR/mntns"
  say "host S (SASL: tcp $S_ADDR$(s_tls && echo ", tls" || true), unix $(s_sock)) up after $(elapsed "$t0")s"
}

cmd_down_sasl() {
  local p pids=()
  [ -d "$SDIR" ] || return 0
  for p in "$(s_launcher_pid)" "$(s_pid)"; do
    if [ -n "$p" ] && s_ours "$p"; then pids+=("$p"); fi
  done
  term_then_kill "${pids[@]}"
  rm -rf "$SDIR"
  say "host S down"
}

cmd_env_sasl() {
  emit VIRTWIRE_SASL_DIR "$SDIR"
  emit VIRTWIRE_SASL_ADDR "$S_ADDR"
  emit VIRTWIRE_SASL_USER "$SASL_USER"
  emit VIRTWIRE_SASL_PASSWORD "$SASL_PASSWORD"
  emit VIRTWIRE_SASL_TCP "test+tcp://$S_ADDR/default"
  emit VIRTWIRE_SASL_UNIX "test+unix:///default?socket=$(s_sock)"
  emit VIRTWIRE_SASL_SOCKET "$(s_sock)"
  if s_tls; then emit VIRTWIRE_SASL_TLS "test+tls://$S_ADDR/default?pkipath=$DIR/pki/client"; fi
}

# ---------------------------------------------------------------------------------------------
# host P: polkit on the unix sockets

PDIR=${VIRTWIRE_POLKIT_DIR:-$DIR-polkit}
POLKITD=${VIRTWIRE_POLKITD:-/usr/lib/polkit-1/polkitd}

p_pidfile_ours() { # p_pidfile_ours FILE: the PID in FILE is alive and in P's mount namespace
  local p
  p=$(read_pid "$1")
  [ -n "$p" ] && alive "$p" && [ -s "$PDIR/mntns" ] &&
    [ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$(cat "$PDIR/mntns")" ]
}
p_sock() { echo "$PDIR/sock/libvirt-sock"; }
p_started() { [ -S "$(p_sock)" ] && [ -s "$PDIR/libvirtd.pid" ]; }
polkit_up() {
  p_pidfile_ours "$PDIR/libvirtd.pid" && p_pidfile_ours "$PDIR/polkitd.pid" &&
    p_pidfile_ours "$PDIR/dbus.pid" && [ -S "$(p_sock)" ]
}

write_polkit_host() {
  local d=$PDIR
  [ -n "$d" ] || die "no state directory for host P"
  mkdir -p "$d"/{etc,run,lib,cache,log,sock,dbus,actions,rules,rules-vendor}
  chmod 755 "$d" "$d/rules" "$d/actions"
  # A private system bus: libvirtd and polkitd find it through DBUS_SYSTEM_BUS_ADDRESS.
  cat >"$d/dbus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$d/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
  # The two actions libvirtd checks on its sockets (read-write: manage, read-only: monitor),
  # registered only inside P's namespace (bind-mounted over polkit's actions directory).
  cat >"$d/actions/org.libvirt.unix.policy" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1.0/policyconfig.dtd">
<policyconfig>
  <action id="org.libvirt.unix.monitor">
    <description>virtwire test host P: monitor</description>
    <message>virtwire test host P: monitor</message>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive><allow_active>no</allow_active></defaults>
  </action>
  <action id="org.libvirt.unix.manage">
    <description>virtwire test host P: manage</description>
    <message>virtwire test host P: manage</message>
    <defaults><allow_any>no</allow_any><allow_inactive>no</allow_inactive><allow_active>no</allow_active></defaults>
  </action>
</policyconfig>
EOF
  # The decision is the test's to make: allowed while $d/allow exists, denied otherwise.
  cat >"$d/rules/50-virtwire.rules" <<EOF
polkit.addRule(function (action, subject) {
  if (action.id.indexOf("org.libvirt.unix.") !== 0) return polkit.Result.NOT_HANDLED;
  try {
    polkit.spawn(["/usr/bin/test", "-e", "$d/allow"]);
    return polkit.Result.YES;
  } catch (e) {
    return polkit.Result.NO;
  }
});
EOF
  chmod 644 "$d/rules/50-virtwire.rules" "$d/actions/org.libvirt.unix.policy"
  cat >"$d/etc/libvirtd.conf" <<EOF
listen_tcp = 0
listen_tls = 0
auth_unix_rw = "polkit"
auth_unix_ro = "polkit"
unix_sock_dir = "$d/sock"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0777"
host_uuid = "7669727a-0000-4000-8000-000000000050"
log_outputs = "3:file:$d/libvirtd.log"
EOF
  write_qemu_conf "$d"
  cat >"$d/launch.sh" <<EOF
#!/bin/bash
set -e
$(libvirt_binds "$d")
mount --bind '$d/actions' /usr/share/polkit-1/actions
mount --bind '$d/rules' /etc/polkit-1/rules.d
mount --bind '$d/rules-vendor' /usr/share/polkit-1/rules.d
export DBUS_SYSTEM_BUS_ADDRESS='unix:path=$d/dbus/system_bus_socket'
dbus-daemon --config-file='$d/dbus.conf' --nofork >'$d/dbus.log' 2>&1 &
echo \$! >'$d/dbus.pid'
for i in \$(seq 100); do [ -S '$d/dbus/system_bus_socket' ] && break; sleep 0.05; done
'$POLKITD' --no-debug >'$d/polkitd.log' 2>&1 &
echo \$! >'$d/polkitd.pid'
for i in \$(seq 200); do
  dbus-send --system --print-reply --dest=org.freedesktop.DBus / \\
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.PolicyKit1 2>/dev/null |
    grep -q 'boolean true' && break
  sleep 0.05
done
exec $LIBVIRTD -f '$d/etc/libvirtd.conf' -p '$d/libvirtd.pid'
EOF
}

cmd_up_polkit() {
  local t0
  t0=$(now)
  [ "$(id -u)" = 0 ] || die "must run as root (private mount namespaces, system libvirtd)"
  if [ -d "$PDIR" ]; then
    if polkit_up; then
      say "host P already up ($PDIR)"
      return 0
    fi
    cmd_down_polkit
  fi
  cmd_install
  [ -x "$POLKITD" ] || die "no polkitd at $POLKITD (Debian package polkitd)"
  mkdir -p /usr/share/polkit-1/actions /etc/polkit-1/rules.d /usr/share/polkit-1/rules.d
  write_polkit_host
  touch "$PDIR/allow"
  seed_caps "$CAPS_CACHE" "$PDIR" || true
  launch_ns "$PDIR"
  await_launch P "$PDIR" "$t0" p_started "create $(p_sock)" down-polkit \
    "$PDIR/stdout.log" "$PDIR/dbus.log" "$PDIR/polkitd.log" "$PDIR/libvirtd.log"
  readlink "/proc/$(read_pid "$PDIR/libvirtd.pid")/ns/mnt" >"$PDIR/mntns"
  polkit_up || die "host P: libvirtd, polkitd or its D-Bus is not running (see $PDIR/*.log)"
  say "host P (polkit on $(p_sock)) up after $(elapsed "$t0")s"
}

cmd_down_polkit() {
  local f p pids=()
  [ -d "$PDIR" ] || return 0
  # launcher first (it may still be waiting for polkitd), then the daemons, all by recorded PID
  p=$(read_pid "$PDIR/launcher.pid")
  if [ -n "$p" ] && alive "$p" && [ "$(cat "/proc/$p/cmdline" 2>/dev/null | tr '\0' ' ')" = "unshare --mount --propagation private /bin/bash $PDIR/launch.sh " ]; then
    pids+=("$p")
  fi
  for f in libvirtd polkitd dbus; do
    if p_pidfile_ours "$PDIR/$f.pid"; then pids+=("$(read_pid "$PDIR/$f.pid")"); fi
  done
  term_then_kill "${pids[@]}"
  rm -rf "$PDIR"
  say "host P down"
}

cmd_env_polkit() {
  emit VIRTWIRE_POLKIT_DIR "$PDIR"
  emit VIRTWIRE_POLKIT_ALLOW "$PDIR/allow"
  emit VIRTWIRE_POLKIT_SOCKET "$(p_sock)"
  emit VIRTWIRE_POLKIT_UNIX "test+unix:///default?socket=$(p_sock)"
  emit VIRTWIRE_POLKIT_UNIX_RO "test+unix:///default?socket=$(p_sock)-ro"
}

# ---------------------------------------------------------------------------------------------
# daemon faults, for the reconnect tests: signals to the libvirtd PID this harness recorded, and
# only when that process is alive in the host's namespace (a recycled PID is never hit)

fault_host() { # fault_host HOST: dies unless HOST is A or B with state
  case ${1:-} in A | B) ;; *) die "which host? A or B, got '${1:-}'" ;; esac
  [ -d "$DIR/$1" ] || die "host $1 is not set up ($DIR/$1 missing): run '$0 up' first"
}

fault_pid() { # fault_pid HOST: that host's libvirtd PID, when it is alive and ours
  local p
  p=$(read_pid "$DIR/$1/libvirtd.pid")
  ours "$1" "$p" || die "host $1 has no running libvirtd of ours"
  echo "$p"
}

cmd_kill_daemon() {
  local h=${1:-} p i
  fault_host "$h"
  p=$(fault_pid "$h")
  kill -KILL "$p"
  for i in $(seq 50); do
    alive "$p" || break
    sleep 0.1
  done
  alive "$p" && die "libvirtd $p of host $h survived SIGKILL"
  say "host $h: libvirtd $p killed (SIGKILL); its guests keep running"
}

cmd_kill_guest() {
  local h=${1:-} name=${2:-} f p i
  fault_host "$h"
  [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "which guest? a domain name, got '$name'"
  f=$DIR/$h/run/qemu/$name.pid
  p=$(read_pid "$f")
  [ -n "$p" ] || die "host $h has no QEMU pid file for guest $name ($f)"
  case $(readlink "/proc/$p/exe" 2>/dev/null) in
  */qemu-system-*) ;;
  *) die "process $p of $f is not a running QEMU" ;;
  esac
  kill -KILL "$p"
  for i in $(seq 50); do
    alive "$p" || break
    sleep 0.1
  done
  alive "$p" && die "QEMU $p of guest $name on host $h survived SIGKILL"
  say "host $h: QEMU $p of guest $name killed (SIGKILL)"
}

cmd_restart_daemon() {
  local h=${1:-} t0 old p
  fault_host "$h"
  t0=$(now)
  p=$(read_pid "$DIR/$h/libvirtd.pid")
  if [ -n "$p" ] && ours "$h" "$p"; then die "host $h's libvirtd $p is still running: kill-daemon first"; fi
  old=$(cat "$DIR/$h/mntns" 2>/dev/null || true)
  launch_ns "$DIR/$h"
  wait_ready "$h"
  # keep the earlier namespaces: the guests started before the restart live in them
  if [ -n "$old" ]; then echo "$old" >>"$DIR/$h/mntns"; fi
  say "host $h: libvirtd $(read_pid "$DIR/$h/libvirtd.pid") up again after $(elapsed "$t0")s"
}

cmd_signal_daemon() { # cmd_signal_daemon STOP|CONT HOST
  local sig=$1 h=${2:-} p
  fault_host "$h"
  p=$(fault_pid "$h")
  kill "-$sig" "$p"
  say "host $h: libvirtd $p sent SIG$sig"
}

close_inherited_fds

case "${1:-}" in
install) cmd_install ;;
up) cmd_up ;;
down)
  cmd_down
  cmd_down_sasl
  cmd_down_polkit
  ;;
status) cmd_status ;;
env)
  cmd_env
  bash "$GEN_HOSTS" env
  if [ -d "$SDIR" ]; then cmd_env_sasl; fi
  if [ -d "$PDIR" ]; then cmd_env_polkit; fi
  ;;
up-gen | down-gen | status-gen | roots-gen)
  c=${1%-gen}
  shift
  bash "$GEN_HOSTS" "$c" "$@"
  ;;
up-sasl) cmd_up_sasl ;;
down-sasl) cmd_down_sasl ;;
env-sasl) cmd_env_sasl ;;
up-polkit) cmd_up_polkit ;;
down-polkit) cmd_down_polkit ;;
env-polkit) cmd_env_polkit ;;
kill-daemon) cmd_kill_daemon "${2:-}" ;;
restart-daemon) cmd_restart_daemon "${2:-}" ;;
kill-guest) cmd_kill_guest "${2:-}" "${3:-}" ;;
stop-daemon) cmd_signal_daemon STOP "${2:-}" ;;
cont-daemon) cmd_signal_daemon CONT "${2:-}" ;;
*)
  echo "usage: $0 install|up|down|status|env|up-gen|down-gen|status-gen|roots-gen|up-sasl|down-sasl|env-sasl|up-polkit|down-polkit|env-polkit|kill-daemon|restart-daemon|stop-daemon|cont-daemon [A|B] | kill-guest A|B NAME" >&2
  exit 2
  ;;
esac
