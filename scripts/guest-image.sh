#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the tiny guest Portico's e2e tests and demo boot, from Debian
# packages only: a kernel (vmlinuz) and an initramfs (initrd.img).
#
#   kernel     the linux-image-*-cloud-amd64 package linux-image-cloud-amd64
#              depends on, fetched with apt-get download and unpacked with
#              dpkg -x (nothing is installed on the host)
#   initramfs  busybox-static, the virtio network modules of that kernel
#              (loaded in dependency order), the ACPI power button, and an
#              /init that configures eth0 from the kernel command line and
#              runs a scriptable shell on the serial console
#
# Kernel command line understood by /init (besides console=ttyS0):
#   portico.ip=ADDR/LEN    eth0's address (no address: eth0 is only up)
#   portico.gw=ADDR        default route
#   portico.name=NAME      hostname
# The guest prints "portico-guest: ready" on the console once eth0 is
# configured. The shell on ttyS0 reads commands line by line without echo
# or prompt, each line run by its own sh (tests/e2e/guest.py drives it); the ACPI power button (QMP
# system_powerdown) powers the guest off.
#
# Output: $PORTICO_GUEST_DIR (default /var/cache/portico/guest)/vmlinuz,
# initrd.img and stamp. Idempotent: nothing is rebuilt while the stamp
# matches the kernel version, busybox version and this script. Prints the
# directory on stdout. Needs root (apt-get download into a cache).
#
# scripts/guest-image.sh --probe-accel prints "kvm" or "tcg": kvm only if
# this guest actually boots under KVM within 20 s (on some nested hosts a
# QEMU with KVM starts but the guest kernel hangs at once). The answer is
# cached next to the image.
set -euo pipefail
probe=0
[[ ${1:-} == --probe-accel ]] && probe=1

out=${PORTICO_GUEST_DIR:-/var/cache/portico/guest}
here=$(cd "$(dirname "$0")" && pwd)
log() { printf 'guest-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# The modules /init loads, in this order (each after what it depends on).
MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	failover net_failover virtio_net button evdev)

[[ -x /bin/busybox ]] && /bin/busybox --list | grep -x cpio >/dev/null ||
	die "busybox-static is missing (run scripts/setup.sh)"
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
	die "/bin/busybox is not static (install busybox-static, not busybox)"

# The versioned kernel package the metapackage depends on.
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9].*-cloud-amd64$/ { print $2; exit }')
if [[ -z $kpkg ]]; then
	apt-get update -qq >/dev/null 2>&1 || true
	kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9].*-cloud-amd64$/ { print $2; exit }')
fi
[[ -n $kpkg ]] || die "cannot find the kernel package linux-image-cloud-amd64 depends on"
kver=${kpkg#linux-image-}
bbver=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)
stamp="kernel=$kpkg $(apt-cache policy "$kpkg" | awk '/Candidate:/ { print $2 }') busybox=$bbver script=$(sha256sum "$0" | cut -c1-16)"

# probe_accel: boot the image under KVM; "kvm" if it comes up, else "tcg".
probe_accel() {
	local t pid i res=tcg cpu
	if [[ -f $out/accel && $(head -1 "$out/accel") == "$stamp" ]]; then
		tail -1 "$out/accel"
		return
	fi
	if [[ -r /dev/kvm && -w /dev/kvm ]]; then
		t=$(mktemp -d /tmp/portico-probe.XXXXXX)
		for cpu in host host,-arch-capabilities; do
			setsid qemu-system-x86_64 -nodefaults -nographic -no-user-config -machine q35 -m 128 \
				-accel kvm -cpu "$cpu" -chardev "file,id=c,path=$t/log" -serial chardev:c \
				-kernel "$out/vmlinuz" -initrd "$out/initrd.img" -append "console=ttyS0 quiet" \
				</dev/null >"$t/qemu.log" 2>&1 &
			pid=$!
			for ((i = 0; i < 200; i++)); do
				grep -q 'portico-guest: ready' "$t/log" 2>/dev/null && res=kvm && break
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -9 "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			[[ $res == kvm ]] && break
		done
		rm -rf "$t"
	fi
	printf '%s\n%s\n' "$stamp" "$res" >"$out/accel"
	echo "$res"
}

if [[ -f $out/stamp && $(cat "$out/stamp") == "$stamp" && -s $out/vmlinuz && -s $out/initrd.img ]]; then
	if [[ $probe == 1 ]]; then probe_accel 2>/dev/null; else echo "$out"; fi
	exit 0
fi

log "building in $out ($kpkg)"
mkdir -p "$out"
tmp=$(mktemp -d /tmp/portico-guest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt-get download drops privileges to _apt
(cd "$tmp" && apt-get download -q "$kpkg" >/dev/null 2>&1) || die "apt-get download $kpkg failed"
dpkg -x "$tmp"/"$kpkg"_*.deb "$tmp/k"
[[ -s $tmp/k/boot/vmlinuz-$kver ]] || die "no vmlinuz-$kver in $kpkg"

root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,root,lib/modules}
cp /bin/busybox "$root/bin/busybox"
for m in "${MODULES[@]}"; do
	f=$(find "$tmp/k/lib/modules/$kver" -name "$m.ko*" | head -1)
	[[ -n $f ]] || die "module $m not found in $kpkg"
	case $f in
	*.ko) cp "$f" "$root/lib/modules/$m.ko" ;;
	*.ko.xz) xz -dc "$f" >"$root/lib/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$root/lib/modules/$m.ko" ;;
	*) die "unknown module format: $f" ;;
	esac
done
echo "${MODULES[*]}" >"$root/lib/modules/order"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# Portico test guest: PID 1 of the initramfs (scripts/guest-image.sh).
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
dmesg -n 1
for m in $(cat /lib/modules/order); do
	insmod "/lib/modules/$m.ko" || echo "portico-guest: insmod $m failed"
done
ip=; gw=; name=portico-guest
for arg in $(cat /proc/cmdline); do
	case $arg in
	portico.ip=*) ip=${arg#portico.ip=} ;;
	portico.gw=*) gw=${arg#portico.gw=} ;;
	portico.name=*) name=${arg#portico.name=} ;;
	esac
done
hostname "$name"
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ip link set eth0 up
[ -n "$ip" ] && ip addr add "$ip" dev eth0
[ -n "$gw" ] && ip route add default via "$gw"
# The ACPI power button (QMP system_powerdown) powers off.
for ev in /sys/class/input/event*; do
	[ "$(cat "$ev/device/name" 2>/dev/null)" = "Power Button" ] || continue
	(dd if="/dev/input/${ev##*/}" bs=24 count=1 >/dev/null 2>&1; poweroff -f) &
done
echo "portico-guest: ready $name eth0=$(cat /sys/class/net/eth0/address 2>/dev/null) ip=${ip:-none}" >/dev/ttyS0
# A scriptable shell on the console: no echo, no prompt, one command a line,
# each run by its own sh (so a bad line, or garbage the UART caught during
# boot, costs that line only); its stdin is /dev/null.
stty -F /dev/ttyS0 -echo 2>/dev/null
while :; do
	while IFS= read -r line; do
		sh -c "$line" </dev/null
	done </dev/ttyS0 >/dev/ttyS0 2>&1
	sleep 1
done
EOF
chmod 755 "$root/init"

(cd "$root" && find . | sort | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -9) >"$tmp/initrd.img"
cp "$tmp/k/boot/vmlinuz-$kver" "$tmp/vmlinuz"
install -m 0644 "$tmp/vmlinuz" "$out/vmlinuz.new"
install -m 0644 "$tmp/initrd.img" "$out/initrd.img.new"
mv "$out/vmlinuz.new" "$out/vmlinuz"
mv "$out/initrd.img.new" "$out/initrd.img"
echo "$stamp" >"$out/stamp"
log "done: $(du -h "$out/vmlinuz" | cut -f1) kernel, $(du -h "$out/initrd.img" | cut -f1) initramfs"
if [[ $probe == 1 ]]; then probe_accel 2>/dev/null; else echo "$out"; fi
