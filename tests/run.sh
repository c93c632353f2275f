#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The whole test suite, from a fresh Debian 12 machine (as root):
#   1. scripts/setup.sh (packages, hugepages, hugetlbfs, bpffs)
#   2. build: build/ (release) and build-asan/ (ASan + UBSan)
#   3. unit tests in both builds (meson test --suite unit)
#   4. integration tests (tests/integration/test_*.sh) against build/
#   5. e2e tests (tests/e2e/test_*.sh): real QEMU guests, about 2 minutes
# Ends with one line "N passed, N failed". Exit 0 only if nothing failed.
# Select integration and e2e tests with PORTICO_TESTS="name1 name2" (file
# names without test_ and .sh); PORTICO_SKIP_ASAN=1 skips the sanitizer
# build, PORTICO_SKIP_E2E=1 the e2e tests.
set -u
cd "$(dirname "$0")/.."
top=$PWD
passed=0
failed=0
failures=()

note() { printf '\n=== %s\n' "$*"; }
result() { # name rc
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS %s\n' "$1"
	else
		failed=$((failed + 1))
		failures+=("$1")
		printf 'FAIL %s (exit %s)\n' "$1" "$2"
	fi
}

note "setup"
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

build() { # dir [meson options...]
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
	else
		meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -50 "$dir.ninja.log"; return 1; }
}

note "build (release)"
build build
result build $?

run_unit() { # dir label
	local dir=$1 label=$2 t rc
	[ -f "$dir/build.ninja" ] || return
	for t in $(meson test -C "$dir" --suite unit --no-rebuild --list 2>/dev/null |
		grep -v '^ninja' | sed 's/^.*\/ //'); do
		meson test -C "$dir" --suite unit --no-rebuild --print-errorlogs "$t" \
			>"$dir/unit-$t.log" 2>&1
		rc=$?
		[ $rc -ne 0 ] && tail -40 "$dir/unit-$t.log"
		result "$label/$t" $rc
	done
}

note "unit tests (release)"
run_unit build unit

if [ "${PORTICO_SKIP_ASAN:-0}" != 1 ]; then
	note "build (ASan + UBSan)"
	build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
		-Doptimization=1
	result build-asan $?
	note "unit tests (ASan + UBSan)"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	export LSAN_OPTIONS=suppressions=$top/tests/unit/lsan.supp
	run_unit build-asan asan
	unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

note "integration tests"
for t in tests/integration/test_*.sh; do
	name=$(basename "$t" .sh)
	name=${name#test_}
	if [ -n "${PORTICO_TESTS:-}" ] && ! [[ " $PORTICO_TESTS " == *" $name "* ]]; then
		continue
	fi
	start=$(date +%s)
	PORTICO_BUILD=$top/build timeout -k 10 600 bash "$t" >"build/it-$name.log" 2>&1
	rc=$?
	[ $rc -ne 0 ] && tail -60 "build/it-$name.log"
	result "integration/$name ($(($(date +%s) - start)) s)" $rc
done

if [ "${PORTICO_SKIP_E2E:-0}" != 1 ]; then
	note "e2e tests (real QEMU guests)"
	for t in tests/e2e/test_*.sh; do
		name=$(basename "$t" .sh)
		name=${name#test_}
		if [ -n "${PORTICO_TESTS:-}" ] && ! [[ " $PORTICO_TESTS " == *" $name "* ]]; then
			continue
		fi
		start=$(date +%s)
		PORTICO_BUILD=$top/build timeout -k 10 600 bash "$t" >"build/e2e-$name.log" 2>&1
		rc=$?
		[ $rc -ne 0 ] && tail -60 "build/e2e-$name.log"
		grep -h '^OUTAGE:' "build/e2e-$name.log" || true
		result "e2e/$name ($(($(date +%s) - start)) s)" $rc
	done
fi

note "summary"
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
