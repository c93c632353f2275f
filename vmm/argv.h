/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QEMU command line builder: a VM spec (vmm/spec.h) plus facts about the host
 * become the argv the host agent execs.
 *
 * Pure: no I/O, no globals; the caller finds out whether KVM is usable and
 * where QEMU is. What the command line gives a VM:
 *  - a q35 machine whose RAM is a shared memfd (memory-backend-memfd,
 *    share=on), so porticod's vhost-user backend can map it;
 *  - KVM with the host CPU model when usable, else TCG;
 *  - NIC i: a vhost-user netdev on a unix socket QEMU serves
 *    (server=on,wait=off: porticod connects as a client and reconnects when
 *    it restarts) and a virtio-net-pci device with id "nic<i>" (the name
 *    QMP's NIC_RX_FILTER_CHANGED and query-rx-filter use), the spec's MAC,
 *    and the offloads porticod does not implement turned off;
 *  - the serial console on a unix socket QEMU serves in the run directory
 *    (one client at a time: an operator, a test's script), everything the
 *    guest writes also appended to the spec's console log;
 *  - a QMP socket and a pidfile in the run directory (vmm_run_path());
 *  - no default devices, no user config, no display.
 *
 * Note for whoever execs it: QEMU 7.2 does not finish starting (not even its
 * QMP socket answers) until a vhost-user backend has connected to every NIC
 * socket and completed the handshake, whatever wait=off says; after that a
 * backend may come and go. So porticod's ports must exist (porticod
 * reconnects to the sockets once QEMU creates them) for a VM with NICs to
 * come up.
 */
#ifndef PORTICO_VMM_ARGV_H
#define PORTICO_VMM_ARGV_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/spec.h"

/* What the builder needs to know about the host. */
struct vmm_host {
	bool kvm; /* KVM is usable (see below): KVM, else TCG */
	/*
	 * KVM only: the -cpu model, NULL for "host". Some hosts (nested KVM
	 * here) refuse the IA32_ARCH_CAPABILITIES value QEMU 7.2 sets for
	 * "host" and QEMU aborts at start ("failed to set MSR 0x10a"); there
	 * "host,-arch-capabilities" works. So "usable" is best probed by
	 * starting QEMU (-S) rather than by opening /dev/kvm.
	 */
	const char *kvm_cpu;
	const char *qemu; /* QEMU binary, argv[0] (a path, or a name for execvp) */
	const char *run_dir; /* absolute directory for the VMs' QMP sockets and pidfiles */
};

/* Files the agent finds a running VM by (in host->run_dir). */
enum vmm_run_file {
	VMM_RUN_QMP, /* <run_dir>/<vm>.qmp: QMP unix socket QEMU serves */
	VMM_RUN_PID, /* <run_dir>/<vm>.pid: QEMU's pidfile */
	VMM_RUN_CONSOLE, /* <run_dir>/<vm>.console: serial console socket QEMU serves */
};

/*
 * The path of one of vm's run files in buf[size]. 0, -EINVAL (bad run dir or
 * VM name) or -ENAMETOOLONG (does not fit size; a QMP socket path must also
 * fit a unix socket address, VMM_SOCK_MAX).
 */
int vmm_run_path(const struct vmm_host *host, const char *vm, enum vmm_run_file which, char *buf,
	size_t size);

/*
 * QEMU's argv for spec (validated again here) on host: a NULL-terminated
 * array of strings, all allocated, freed with vmm_argv_free(). NULL with
 * errno (EINVAL, ENAMETOOLONG, ENOMEM) and a reason in err (VMM_ERR_MAX).
 */
char **vmm_argv_build(const struct vmm_spec *spec, const struct vmm_host *host, char *err);

/* Free what vmm_argv_build() returned. NULL is a no-op. */
void vmm_argv_free(char **argv);

#endif /* PORTICO_VMM_ARGV_H */
