#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Prepare a Debian 12 host for Portico: install every Debian package the
# project builds and tests with, reserve hugepages, mount hugetlbfs and bpffs,
# turn scheduler autogroups off.
# Idempotent: running it again changes nothing that is already in place.
set -euo pipefail

PACKAGES=(
	# build
	build-essential pkg-config meson ninja-build
	# data plane and its libraries
	libdpdk-dev dpdk dpdk-dev libjansson-dev libpcap-dev libbpf-dev libxdp-dev
	libnl-3-dev libnl-route-3-dev libssl-dev libnuma-dev libelf-dev zlib1g-dev
	# tests
	libcmocka-dev iproute2 iputils-ping arping tcpdump iperf3 python3 procps
	psmisc util-linux kmod
	# benchmark (bench/run): Open vSwitch with DPDK to compare against, plots
	openvswitch-switch-dpdk gnuplot-nox
	# VMs (portico-agent, e2e tests, demo --vms): QEMU, the guest image's
	# busybox, the remote API's certificates, a console client
	qemu-system-x86 busybox-static openssl socat
)
HUGEPAGES=${PORTICO_HUGEPAGES:-1024}

log() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: must run as root" >&2
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Hugepages: 2 MiB pages, at least $HUGEPAGES of them.
cur=$(cat /proc/sys/vm/nr_hugepages)
if [ "$cur" -lt "$HUGEPAGES" ]; then
	log "reserving $HUGEPAGES hugepages"
	echo "$HUGEPAGES" >/proc/sys/vm/nr_hugepages
	cur=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$cur" -lt "$HUGEPAGES" ]; then
		echo "setup: only $cur hugepages could be reserved" >&2
		exit 1
	fi
fi
if ! mountpoint -q /dev/hugepages; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages
fi
# Scheduler autogroups off. With them, each session's processes share one
# CPU weight, split over the CPUs by where its load is: porticod's control
# thread, on the CPU of a busy poller started in another session (a fake
# VM's testpmd, a generator, a guest), gets almost none of it while its own
# worker busy-polls the other CPU, and answers its socket seconds late.
if [ -w /proc/sys/kernel/sched_autogroup_enabled ] &&
	[ "$(cat /proc/sys/kernel/sched_autogroup_enabled)" != 0 ]; then
	log "turning scheduler autogroups off"
	echo 0 >/proc/sys/kernel/sched_autogroup_enabled
fi
# bpffs, which net_af_xdp needs.
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null || log "warning: could not mount bpffs"
fi

# The control sockets' group and the daemons' directories.
getent group portico >/dev/null || groupadd --system portico
install -d -m 0755 /var/lib/portico
install -d -m 0770 -g portico /run/portico
log "ready ($(cat /proc/sys/vm/nr_hugepages) hugepages)"
