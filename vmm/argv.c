/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QEMU command line builder (see argv.h).
 *
 * Pure: libc only, no I/O, no globals. Option values that QEMU parses as
 * "key=value,..." lists (QemuOpts, keyval) get their commas doubled, so any
 * path the spec allows stays one value; arguments QEMU takes verbatim
 * (-pidfile, -kernel, -initrd, -append) are passed as they are. Written for
 * QEMU 7.2 (Debian 12); every property used exists there.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/argv.h"

/* An escaped path: at most every byte doubled, plus NUL. */
#define ESC_PATH_MAX (2 * VMM_PATH_MAX)

/*
 * Guest offloads porticod does not implement (vhost/vhost.c disables the same
 * feature bits in rte_vhost; dpdk-notes.md, vhost-user): no checksum offload,
 * no TSO/UFO/ECN either way, no legacy GSO. Turned off in the device too, so
 * what the guest gets does not depend on the backend's negotiation.
 */
static const char NIC_OFFLOADS[] = "csum=off,gso=off,host_tso4=off,host_tso6=off,host_ecn=off,"
				   "host_ufo=off,guest_csum=off,guest_tso4=off,guest_tso6=off,"
				   "guest_ecn=off,guest_ufo=off";

static const char *const run_suffix[] = {
	[VMM_RUN_QMP] = ".qmp",
	[VMM_RUN_PID] = ".pid",
	[VMM_RUN_CONSOLE] = ".console",
};

/* A growing argv; the first failure sticks in rc and later pushes do nothing. */
struct vec {
	char **v; /* n strings and a NULL */
	size_t n; /* strings in v */
	size_t cap; /* room in v, NULL included */
	int rc; /* 0, or the first error (-ENOMEM) */
};

static void
push_owned(struct vec *a, char *s)
{
	char **v;

	if (a->rc == 0 && s == NULL)
		a->rc = -ENOMEM;
	if (a->rc != 0) {
		free(s);
		return;
	}
	if (a->n + 2 > a->cap) {
		v = realloc(a->v, (a->cap * 2 + 16) * sizeof(*v));
		if (v == NULL) {
			a->rc = -ENOMEM;
			free(s);
			return;
		}
		a->v = v;
		a->cap = a->cap * 2 + 16;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void
push(struct vec *a, const char *s)
{
	push_owned(a, strdup(s));
}

static void pushf(struct vec *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
pushf(struct vec *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	push_owned(a, s);
}

/* s with every ',' doubled, for a QEMU option value; buf holds ESC_PATH_MAX. */
static const char *
opt_esc(char buf[ESC_PATH_MAX], const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 2 < ESC_PATH_MAX; s++) {
		if (*s == ',')
			buf[o++] = ',';
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

int
vmm_run_path(const struct vmm_host *host, const char *vm, enum vmm_run_file which, char *buf,
	size_t size)
{
	size_t dlen, max;
	int n;

	if (host == NULL || host->run_dir == NULL || host->run_dir[0] != '/' || vm == NULL ||
		vm[0] == '\0' || strchr(vm, '/') != NULL ||
		(which != VMM_RUN_QMP && which != VMM_RUN_PID && which != VMM_RUN_CONSOLE))
		return -EINVAL;
	dlen = strlen(host->run_dir);
	while (dlen > 1 && host->run_dir[dlen - 1] == '/')
		dlen--;
	if (dlen == 1)
		dlen = 0; /* "/" + "/vm.qmp" would give "//vm.qmp" */
	n = snprintf(buf, size, "%.*s/%s%s", (int)dlen, host->run_dir, vm, run_suffix[which]);
	max = which != VMM_RUN_PID && size > VMM_SOCK_MAX ? VMM_SOCK_MAX : size;
	if (n < 0 || (size_t)n >= max) {
		if (size > 0)
			buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

static bool
has_ctl_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

/* Check host; 0 or -EINVAL with err. */
static int
check_host(const struct vmm_host *host, char *err)
{
	if (host == NULL || host->qemu == NULL || host->qemu[0] == '\0' ||
		has_ctl_chars(host->qemu)) {
		snprintf(err, VMM_ERR_MAX, "no usable QEMU binary given");
		return -EINVAL;
	}
	if (host->kvm_cpu != NULL && (host->kvm_cpu[0] == '\0' || has_ctl_chars(host->kvm_cpu))) {
		snprintf(err, VMM_ERR_MAX, "bad KVM CPU model");
		return -EINVAL;
	}
	if (host->run_dir == NULL || host->run_dir[0] != '/' || has_ctl_chars(host->run_dir)) {
		snprintf(err, VMM_ERR_MAX, "run directory must be an absolute path");
		return -EINVAL;
	}
	return 0;
}

/* -device virtio-net-pci ... for NIC i. */
static void
push_nic(struct vec *a, const struct vmm_spec *spec, unsigned i, bool kvm)
{
	const struct vmm_nic *nic = &spec->nics[i];
	char esc[ESC_PATH_MAX], mac[18], mq[32];

	vmm_mac_format(nic->mac, mac);
	push(a, "-chardev");
	pushf(a, "socket,id=char%u,path=%s,server=on,wait=off", i, opt_esc(esc, nic->socket));
	push(a, "-netdev");
	pushf(a, "vhost-user,id=net%u,chardev=char%u,queues=%u", i, i, (unsigned)nic->queues);

	mq[0] = '\0';
	if (!kvm) {
		/*
		 * Debian's QEMU 7.2 under TCG segfaults in msix_set_vector_notifiers()
		 * when a vhost-user virtio-net-pci device has MSI-X (found on this
		 * project's test host). vectors=0 turns MSI-X off: the guest uses
		 * INTx, which is slower but works. KVM does not need it.
		 */
		snprintf(mq, sizeof(mq), "%s,vectors=0", nic->queues > 1 ? ",mq=on" : "");
	} else if (nic->queues > 1) {
		/* one vector per queue of each pair, one for config, one for the control queue */
		snprintf(mq, sizeof(mq), ",mq=on,vectors=%u", 2 * (unsigned)nic->queues + 2);
	}
	push(a, "-device");
	pushf(a, "virtio-net-pci,id=nic%u,netdev=net%u,mac=%s,%s%s", i, i, mac, NIC_OFFLOADS, mq);
}

static void
push_boot(struct vec *a, const struct vmm_boot *b)
{
	char esc[ESC_PATH_MAX];

	switch (b->kind) {
	case VMM_BOOT_NONE:
		break;
	case VMM_BOOT_DISK:
		push(a, "-drive");
		pushf(a, "file=%s,format=%s,if=virtio", opt_esc(esc, b->disk),
			b->format == VMM_DISK_RAW ? "raw" : "qcow2");
		break;
	case VMM_BOOT_KERNEL:
		push(a, "-kernel");
		push(a, b->kernel);
		if (b->initrd[0] != '\0') {
			push(a, "-initrd");
			push(a, b->initrd);
		}
		if (b->cmdline[0] != '\0') {
			push(a, "-append");
			push(a, b->cmdline);
		}
		break;
	}
}

char **
vmm_argv_build(const struct vmm_spec *spec, const struct vmm_host *host, char *err)
{
	char qmp[VMM_SOCK_MAX], con[VMM_SOCK_MAX], pid[VMM_PATH_MAX], esc[ESC_PATH_MAX],
		esc2[ESC_PATH_MAX], dummy[VMM_ERR_MAX];
	struct vec a = {0};
	unsigned i;
	int rc;

	if (err == NULL)
		err = dummy;
	rc = vmm_spec_validate(spec, err);
	if (rc < 0)
		goto fail;
	rc = check_host(host, err);
	if (rc < 0)
		goto fail;
	rc = vmm_run_path(host, spec->name, VMM_RUN_QMP, qmp, sizeof(qmp));
	if (rc == 0)
		rc = vmm_run_path(host, spec->name, VMM_RUN_PID, pid, sizeof(pid));
	if (rc == 0)
		rc = vmm_run_path(host, spec->name, VMM_RUN_CONSOLE, con, sizeof(con));
	if (rc < 0) {
		snprintf(err, VMM_ERR_MAX,
			"vm \"%s\": run directory \"%.64s\" is too long for its QMP socket, "
			"console socket or pidfile",
			spec->name, host->run_dir);
		goto fail;
	}

	push(&a, host->qemu);
	push(&a, "-name");
	pushf(&a, "guest=%s", spec->name);
	push(&a, "-no-user-config");
	push(&a, "-nodefaults");
	push(&a, "-nographic");
	/* RAM is the shared memfd "mem": porticod maps it over vhost-user */
	push(&a, "-machine");
	push(&a, "q35,memory-backend=mem");
	push(&a, "-object");
	pushf(&a, "memory-backend-memfd,id=mem,size=%uM,share=on", (unsigned)spec->memory);
	push(&a, "-m");
	pushf(&a, "%uM", (unsigned)spec->memory);
	push(&a, "-accel");
	push(&a, host->kvm ? "kvm" : "tcg");
	if (host->kvm) {
		push(&a, "-cpu");
		push(&a, host->kvm_cpu != NULL ? host->kvm_cpu : "host");
	}
	push(&a, "-smp");
	pushf(&a, "%u", (unsigned)spec->vcpus);

	/* The console: a socket to type into (wait=off: QEMU does not wait
	 * for a client; output with nobody connected is dropped from the
	 * socket) and the log file, which gets everything the guest writes. */
	push(&a, "-chardev");
	pushf(&a, "socket,id=console,path=%s,server=on,wait=off,logfile=%s,logappend=on",
		opt_esc(esc, con), opt_esc(esc2, spec->console));
	push(&a, "-serial");
	push(&a, "chardev:console");
	push(&a, "-qmp");
	pushf(&a, "unix:%s,server=on,wait=off", opt_esc(esc, qmp));
	push(&a, "-pidfile");
	push(&a, pid);

	push_boot(&a, &spec->boot);
	for (i = 0; i < spec->n_nics; i++)
		push_nic(&a, spec, i, host->kvm);

	rc = a.rc;
	if (rc < 0) {
		snprintf(err, VMM_ERR_MAX, "vm \"%s\": out of memory", spec->name);
		goto free_vec;
	}
	return a.v;

free_vec:
	vmm_argv_free(a.v);
fail:
	errno = -rc;
	return NULL;
}

void
vmm_argv_free(char **argv)
{
	char **p;

	if (argv == NULL)
		return;
	for (p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}
