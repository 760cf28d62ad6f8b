#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then run the checks and the tests:
#   ruff check .  ·  mypy (pyproject config)  ·  lint-imports (the layers contract)  ·  pytest
# Extra arguments go to pytest:  ./scripts/test.sh -m "not slow"   (the quick subset)
#                                ./scripts/test.sh tests/store -x
# Every check runs even if an earlier one failed, so one run shows all problems; the exit
# status is non-zero if any failed (pytest's own status when it is the one that failed,
# e.g. 5 when no tests ran). OMG_TEST_SKIP_LINT=1 runs pytest alone.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
"$REPO/scripts/setup.sh" || exit $?

export PATH="$REPO/.venv/bin:$PATH"
failed=()
check() {
    local name=$1; shift
    printf '\n==> %s\n' "$*"
    local t0=$SECONDS
    if "$@"; then
        printf -- '--- %s passed (%ss)\n' "$name" $((SECONDS - t0))
    else
        printf -- '--- %s FAILED (%ss)\n' "$name" $((SECONDS - t0))
        failed+=("$name")
    fi
}

if [ "${OMG_TEST_SKIP_LINT:-0}" != 1 ]; then
    check ruff ruff check .
    check mypy mypy
    check lint-imports lint-imports --no-logo --no-cache
fi

# A full disk fails hundreds of tests at set-up; say so once, up front.
tmp_free_mb=$(df -Pm "${TMPDIR:-/tmp}" | awk 'NR==2 {print $4}')
printf '\n==> %s MB free in %s\n' "$tmp_free_mb" "${TMPDIR:-/tmp}"
[ "$tmp_free_mb" -lt 4096 ] && printf 'test.sh: warning: the full suite needs about 4 GB in %s\n' "${TMPDIR:-/tmp}" >&2

# Tests run in parallel workers (pytest-xdist), a whole file per worker: the contract
# suite compares both backends' runs inside one process, and a file's module fixtures
# are built once. OMG_TEST_JOBS=1 (or -n/-p no:xdist among the arguments) runs serially.
parallel=(-n "${OMG_TEST_JOBS:-auto}" --dist loadfile)
for arg in "$@"; do
    case $arg in -n|-n*|--numprocesses*|--dist*|no:xdist) parallel=() ;; esac
done
[ "${OMG_TEST_JOBS:-auto}" = 1 ] && parallel=()

printf '\n==> pytest %s\n' "${parallel[*]} $*"
t0=$SECONDS
python -m pytest "${parallel[@]}" "$@"
rc=$?
if [ $rc -eq 5 ]; then
    printf -- '--- pytest: no tests ran (exit 5): that counts as a failure\n'
fi
[ $rc -ne 0 ] && failed+=("pytest")
printf -- '--- pytest exit %s (%ss)\n' $rc $((SECONDS - t0))

if [ ${#failed[@]} -ne 0 ]; then
    printf '\ntest.sh: FAILED: %s\n' "${failed[*]}" >&2
    [ $rc -ne 0 ] && exit $rc
    exit 1
fi
printf '\ntest.sh: all checks and tests passed\n'
