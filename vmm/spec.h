/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM spec: what the host agent knows about one VM, as plain C structs, and
 * its JSON codec.
 *
 * The agent keeps its inventory as these specs; vmm/argv.h turns one into
 * QEMU's command line, and the agent adds each NIC as a porticod port (over
 * the control socket: vmm never links control/). Everything here is pure
 * (no I/O, no globals), jansson and libc only.
 *
 * A spec in JSON:
 *   {"name": "vm1", "vcpus": 1, "memory": 256,
 *    "boot": {"kernel": "/k", "initrd": "/i", "cmdline": "console=ttyS0"},
 *    "nics": [{"vswitch": "vSwitch0", "portgroup": "VM Network",
 *              "mac": "02:12:34:56:78:9a", "queues": 1,
 *              "socket": "/run/portico/vm1.eth0.sock"}],
 *    "console": "/var/lib/portico/vm1.console.log"}
 * "boot" is either {"disk": PATH, "format": "qcow2"|"raw"} or {"kernel": PATH,
 * "initrd": PATH, "cmdline": TEXT} (initrd and cmdline optional), or absent
 * (no boot device: firmware only, for tests). Optional fields and their
 * defaults: vcpus (1), memory in MiB (256), boot (none), nics ([]), format
 * ("qcow2"), queues (1), and the derived ones below. Unknown fields are an
 * error: a typo must not silently become a default.
 *
 * Derived fields (vmm_spec_resolve(), with a state directory DIR):
 *  - mac: vmm_mac_derive(name, index), 02:xx:xx:xx:xx:xx (see there);
 *  - socket: DIR/<name>.eth<index>.sock, the vhost-user socket QEMU serves
 *    and porticod connects to (and reconnects to after a restart);
 *  - console: DIR/<name>.console.log, the serial console log.
 * to_json() writes every field, derived ones included, so a stored spec does
 * not depend on the directory or on this derivation any more.
 *
 * Every function that takes "err" writes a one-line, human-readable reason
 * there on failure (at most VMM_ERR_MAX bytes, NUL-terminated).
 */
#ifndef PORTICO_VMM_SPEC_H
#define PORTICO_VMM_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define VMM_ERR_MAX 256
/*
 * VM name, with NUL: 1..58 characters of [A-Za-z0-9._-], starting with a
 * letter or digit, so that "<name>.eth7" is still a valid porticod port name
 * (63 characters) and the name is safe in file names and QEMU options.
 */
#define VMM_NAME_MAX 59
#define VMM_NET_NAME_MAX 64 /* vSwitch and port group names, with NUL (porticod's limit) */
#define VMM_PORT_NAME_MAX 64 /* porticod port name "<vm>.eth<i>", with NUL */
#define VMM_SOCK_MAX 108 /* a unix socket path (sizeof sun_path), with NUL */
#define VMM_PATH_MAX 1024 /* any other file path, with NUL */
#define VMM_CMDLINE_MAX 2048 /* kernel command line, with NUL (x86 COMMAND_LINE_SIZE) */
#define VMM_MAX_NICS 8 /* NICs per VM */
#define VMM_MAX_QUEUES 8 /* queue pairs per NIC, as porticod */
#define VMM_MAX_VCPUS 64
#define VMM_MEMORY_MIN 32 /* MiB */
#define VMM_MEMORY_MAX (1u << 20) /* MiB (1 TiB) */
#define VMM_VCPUS_DEFAULT 1
#define VMM_MEMORY_DEFAULT 256 /* MiB */

/* What the VM boots from. */
enum vmm_boot_kind {
	VMM_BOOT_NONE, /* no boot device (firmware only; for tests) */
	VMM_BOOT_DISK, /* a disk image on virtio-blk */
	VMM_BOOT_KERNEL, /* direct kernel boot: kernel, optional initrd and command line */
};

/* Format of a disk image, as QEMU's -drive format=. */
enum vmm_disk_format {
	VMM_DISK_QCOW2, /* "qcow2" (default) */
	VMM_DISK_RAW, /* "raw" */
};

/* The boot source. Strings not used by kind are empty. */
struct vmm_boot {
	enum vmm_boot_kind kind; /* which of the fields below are used */
	char disk[VMM_PATH_MAX]; /* DISK: absolute path of the image */
	enum vmm_disk_format format; /* DISK: image format */
	char kernel[VMM_PATH_MAX]; /* KERNEL: absolute path of the kernel */
	char initrd[VMM_PATH_MAX]; /* KERNEL: absolute path of the initrd, "" for none */
	char cmdline[VMM_CMDLINE_MAX]; /* KERNEL: kernel command line, "" for none */
};

/* A vNIC: a virtio-net-pci device on a vhost-user netdev served by QEMU. */
struct vmm_nic {
	char vswitch[VMM_NET_NAME_MAX]; /* porticod vSwitch the port goes on */
	char portgroup[VMM_NET_NAME_MAX]; /* port group of that vSwitch */
	uint8_t mac[6]; /* guest MAC; all-zero: not set, resolve() derives it */
	uint16_t queues; /* queue pairs, 1..VMM_MAX_QUEUES */
	char socket[VMM_SOCK_MAX]; /* vhost-user socket path; "": resolve() derives it */
};

/* One VM. */
struct vmm_spec {
	char name[VMM_NAME_MAX]; /* unique on the host; see VMM_NAME_MAX */
	uint16_t vcpus; /* 1..VMM_MAX_VCPUS */
	uint32_t memory; /* guest RAM in MiB, VMM_MEMORY_MIN..VMM_MEMORY_MAX */
	struct vmm_boot boot; /* what it boots */
	unsigned n_nics; /* entries used in nics */
	struct vmm_nic nics[VMM_MAX_NICS]; /* in guest PCI order: nics[i] is QEMU's nic<i> */
	char console[VMM_PATH_MAX]; /* serial console log file; "": resolve() derives it */
};

/* Zero spec and set the defaults (vcpus, memory; no name, boot or NICs). */
void vmm_spec_init(struct vmm_spec *spec);

/*
 * Fill what spec leaves unset: all-zero MACs, empty socket paths and an empty
 * console path, as described at the top. dir (absolute, may be NULL) is the
 * state directory; without it unset sockets and console are an error. The
 * name must be set. 0, or -EINVAL / -ENAMETOOLONG with err (spec may then be
 * partly filled).
 */
int vmm_spec_resolve(struct vmm_spec *spec, const char *dir, char *err);

/*
 * Check a resolved spec: name, ranges, boot, paths absolute and printable,
 * NICs' names valid, MACs unicast and not all-zero, MACs and sockets unique
 * within the VM. 0 or -EINVAL with the first problem in err.
 */
int vmm_spec_validate(const struct vmm_spec *spec, char *err);

/*
 * Parse a JSON spec, resolve it with dir (see vmm_spec_resolve()) and
 * validate it: 0 and *out filled, or -EINVAL / -ENAMETOOLONG with err and
 * *out unchanged.
 */
int vmm_spec_from_json(const json_t *doc, const char *dir, struct vmm_spec *out, char *err);

/* The spec as JSON, every field written: a new reference, NULL on allocation failure. */
json_t *vmm_spec_to_json(const struct vmm_spec *spec);

/*
 * The MAC given to NIC index of VM name when the spec has none:
 * 02:xx:xx:xx:xx:xx. The first octet 0x02 is locally administered (bit 1)
 * and unicast (bit 0 clear); the other 40 bits are the low bytes of a 64-bit
 * hash of the name and the index (FNV-1a over "portico-vmm", NUL, name, NUL,
 * index as 4 bytes little-endian, then MurmurHash3's fmix64 finalizer). It
 * depends on nothing else, so it is the same on every host, build and run.
 */
void vmm_mac_derive(const char *name, unsigned index, uint8_t mac[6]);

/* MAC text "02:12:34:56:78:9a" <-> bytes. parse returns 0 or -EINVAL. */
int vmm_mac_parse(const char *s, uint8_t mac[6]);
void vmm_mac_format(const uint8_t mac[6], char buf[18]);

/*
 * The porticod port name of NIC index: "<name>.eth<index>". 0, or -EINVAL
 * when the name or index is out of range.
 */
int vmm_nic_port_name(const struct vmm_spec *spec, unsigned index, char buf[VMM_PORT_NAME_MAX]);

#endif /* PORTICO_VMM_SPEC_H */
