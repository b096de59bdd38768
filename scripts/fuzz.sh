#!/usr/bin/env bash
# The decoder fuzz test at a larger scale than CI's 100,000 mutations.
#   scripts/fuzz.sh [MUTATIONS] [SEED]     default 1000000 and the CI seed (24301)
# Prints the test's summary line: mutations, rejections (invalid UTF-8 among them),
# values decoded and the time the mutations took. A failure names the fixture,
# the mutation's index and its bytes; rerun with the same seed to replay it.
set -euo pipefail
cd "$(dirname "$0")/.."
export VIRTWIRE_FUZZ_MUTATIONS=${1:-1000000}
export VIRTWIRE_FUZZ_SEED=${2:-24301}
exec node_modules/.bin/vitest run --project unit test/unit/generated/fuzz.test.ts
