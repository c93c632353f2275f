#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's first command, run to the end: scripts/demo.sh --once.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
timeout -k 10 240 bash "$top/scripts/demo.sh" --once
rc=$?
echo "demo: exit $rc"
exit $rc
