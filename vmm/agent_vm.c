/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * portico-agent's VMs: the persisted inventory, QEMU launched under
 * supervision, the QMP watcher, and re-adoption after an agent restart.
 *
 * Rules the code keeps:
 *  - a VM's porticod ports exist while it is not STOPPED (added before QEMU
 *    starts: QEMU 7.2 does not finish starting until a vhost-user backend
 *    connected to every NIC socket; removed once QEMU is gone);
 *  - QEMU runs in its own session (setsid) with stdout/stderr in
 *    <run-dir>/<vm>.qemu.log, so it outlives the agent; the agent that
 *    started it reaps it, a later agent watches its QMP socket and /proc;
 *  - what the guest set on its NICs (query-rx-filter after each
 *    NIC_RX_FILTER_CHANGED, and once when QMP connects, which also arms the
 *    event) goes to porticod as the port's effective MAC and guest
 *    promiscuous mode;
 *  - the inventory file records the spec and whether the VM should run; a
 *    QEMU that died while no agent watched is reported, not restarted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm/agent.h"

#define QMP_RETRY_MS 100 /* period of QMP connect attempts */
#define QUIT_GRACE_MS 5000 /* after "quit" (or SIGTERM), SIGKILL */
#define CONSOLE_LINES_DEFAULT 40
#define CONSOLE_LINES_MAX 2000
#define CONSOLE_TAIL_MAX (256u << 10) /* bytes of the log read for the tail */

static const char *const state_names[] = {
	[AGENT_VM_STOPPED] = "stopped",
	[AGENT_VM_STARTING] = "starting",
	[AGENT_VM_RUNNING] = "running",
	[AGENT_VM_STOPPING] = "stopping",
};

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct agent_vm *
agent_vm_find(struct agent *a, const char *name)
{
	for (int i = 0; i < AGENT_MAX_VMS; i++)
		if (a->vms[i] != NULL && strcmp(a->vms[i]->spec.name, name) == 0)
			return a->vms[i];
	return NULL;
}

void
agent_vm_free(struct agent_vm *vm)
{
	struct agent_waiter *w, *next;

	if (vm == NULL)
		return;
	vmm_qmp_close(vm->qmp);
	for (w = vm->start_waiters; w != NULL; w = next) {
		next = w->next;
		json_decref(w->id);
		free(w);
	}
	for (w = vm->stop_waiters; w != NULL; w = next) {
		next = w->next;
		json_decref(w->id);
		free(w);
	}
	free(vm);
}

static int
state_path(const struct agent *a, const char *vm, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s.json", a->state_dir, vm);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
agent_console_path(const struct agent *a, const char *vm, char *buf, size_t size)
{
	return vmm_run_path(&a->host, vm, VMM_RUN_CONSOLE, buf, size);
}

static int
qemu_log_path(const struct agent *a, const char *vm, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s.qemu.log", a->run_dir, vm);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
agent_vm_save(struct agent *a, const struct agent_vm *vm, char *err)
{
	char path[VMM_PATH_MAX + 8], tmp[VMM_PATH_MAX + 16];
	json_t *doc;
	char *text = NULL;
	int fd = -1, rc;
	size_t len, off = 0;
	ssize_t n;

	if (state_path(a, vm->spec.name, path, VMM_PATH_MAX) < 0) {
		snprintf(err, VMM_ERR_MAX, "state directory path too long");
		return -ENAMETOOLONG;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	doc = json_pack(
		"{s:o, s:b}", "spec", vmm_spec_to_json(&vm->spec), "running", vm->want_running);
	if (doc != NULL)
		text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (text == NULL) {
		snprintf(err, VMM_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto sys_fail;
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto sys_fail;
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto sys_fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto sys_fail;
	free(text);
	return 0;

sys_fail:
	rc = -errno;
	snprintf(err, VMM_ERR_MAX, "cannot write %.160s: %.60s", path, strerror(errno));
	agent_log("%s", err);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(text);
	return rc;
}

/* Save, logging a failure (the in-memory state stays authoritative). */
static void
save_or_log(struct agent *a, const struct agent_vm *vm)
{
	char err[VMM_ERR_MAX];

	agent_vm_save(a, vm, err);
}

/* Is pid a live (not zombie) QEMU of VM name? */
static bool
qemu_alive(pid_t pid, const char *name)
{
	char path[64], buf[8192], want[VMM_NAME_MAX + 8], *p;
	ssize_t n;
	int fd;
	bool found = false;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X')
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	snprintf(want, sizeof(want), "guest=%s", name);
	for (p = buf; p < buf + n; p += strlen(p) + 1)
		if (strcmp(p, want) == 0)
			found = true;
	return found;
}

static pid_t
read_pidfile(const struct agent *a, const char *name)
{
	char path[VMM_PATH_MAX], buf[32];
	ssize_t n;
	int fd;

	if (vmm_run_path(&a->host, name, VMM_RUN_PID, path, sizeof(path)) < 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

/* Remove the run files a QEMU leaves when it is killed. */
static void
remove_run_files(const struct agent *a, const struct agent_vm *vm)
{
	char path[VMM_PATH_MAX];

	if (vmm_run_path(&a->host, vm->spec.name, VMM_RUN_QMP, path, sizeof(path)) == 0)
		unlink(path);
	if (vmm_run_path(&a->host, vm->spec.name, VMM_RUN_PID, path, sizeof(path)) == 0)
		unlink(path);
	if (vmm_run_path(&a->host, vm->spec.name, VMM_RUN_CONSOLE, path, sizeof(path)) == 0)
		unlink(path);
	for (unsigned i = 0; i < vm->spec.n_nics; i++)
		unlink(vm->spec.nics[i].socket);
}

/* The last lines of a file, at most max bytes of them, "" if unreadable. */
static char *
file_tail(const char *path, unsigned lines, size_t max)
{
	struct stat st;
	char *buf, *p;
	off_t start;
	ssize_t n;
	unsigned seen = 0;
	int fd;

	buf = calloc(1, max + 1);
	if (buf == NULL)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return buf;
	}
	start = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
	n = pread(fd, buf, max, start);
	close(fd);
	if (n <= 0)
		return buf;
	buf[n] = '\0';
	/* Back from the end over "lines" newlines (a final one does not count). */
	p = buf + n;
	if (p > buf && p[-1] == '\n')
		p--;
	while (p > buf) {
		if (p[-1] == '\n' && ++seen == lines)
			break;
		p--;
	}
	memmove(buf, p, strlen(p) + 1);
	/* Carriage returns and other controls make no sense in JSON for people. */
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
			*p = ' ';
	return buf;
}

/* The tail of QEMU's own log, as one line, for an error message. */
static void
qemu_log_hint(const struct agent *a, const struct agent_vm *vm, char *buf, size_t size)
{
	char path[VMM_PATH_MAX];
	char *t, *p;

	buf[0] = '\0';
	if (qemu_log_path(a, vm->spec.name, path, sizeof(path)) < 0)
		return;
	t = file_tail(path, 3, 4096);
	if (t == NULL)
		return;
	for (p = t; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	snprintf(buf, size, "%s", t);
	free(t);
}

/* QEMU is gone (reaped, or found dead): ports away, waiters answered, saved. */
static void
vm_exited(struct agent *a, struct agent_vm *vm, const char *why)
{
	enum agent_vm_state was = vm->state;
	struct ctl_rpc_error e = {0};
	char hint[160];
	json_t *res;

	vmm_qmp_close(vm->qmp);
	vm->qmp = NULL;
	agent_pd_ports_del(a, vm);
	remove_run_files(a, vm);
	vm->state = AGENT_VM_STOPPED;
	vm->pid = 0;
	vm->child = false;
	vm->adopted = false;
	vm->want_running = false;
	for (unsigned i = 0; i < VMM_MAX_NICS; i++)
		memset(&vm->nic[i], 0, sizeof(vm->nic[i]));
	if (was == AGENT_VM_STOPPING) {
		agent_log("vm %s: stopped (%s)", vm->spec.name, why);
	} else {
		qemu_log_hint(a, vm, hint, sizeof(hint));
		snprintf(vm->last_error, sizeof(vm->last_error), "%s%s%s", why, hint[0] ? ": " : "",
			hint);
		agent_log("vm %s: QEMU exited: %s", vm->spec.name, vm->last_error);
	}
	save_or_log(a, vm);
	if (vm->start_waiters != NULL) {
		ctl_rpc_fail(&e, CTL_RPC_FAILED, "vm %s did not start: %s", vm->spec.name,
			vm->last_error);
		agent_reply_all(a, &vm->start_waiters, NULL, &e);
	}
	if (vm->stop_waiters != NULL) {
		res = agent_vm_to_json(a, vm, true);
		agent_reply_all(a, &vm->stop_waiters, res, NULL);
		json_decref(res);
	}
}

/* Validate the VM's port groups on porticod, if it answers. */
static int
check_networks(struct agent *a, const struct vmm_spec *spec, struct ctl_rpc_error *e)
{
	json_t *res, *error, *p;
	int rc;

	for (unsigned i = 0; i < spec->n_nics; i++) {
		p = json_pack("{s:s, s:s}", "vswitch", spec->nics[i].vswitch, "name",
			spec->nics[i].portgroup);
		rc = agent_pd_call(a, "portgroup.show", p, &res, &error);
		json_decref(p);
		json_decref(res);
		if (rc < 0)
			return 0; /* porticod away: checked when the VM starts */
		if (error != NULL) {
			json_t *code = json_object_get(error, "code");

			json_decref(error);
			if (json_integer_value(code) == CTL_RPC_METHOD_NOT_FOUND)
				return 0;
			ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
				"vm %s: nic %u: no port group \"%s\" on vSwitch \"%s\"", spec->name,
				i, spec->nics[i].portgroup, spec->nics[i].vswitch);
			return -EINVAL;
		}
	}
	return 0;
}

json_t *
agent_vm_create(struct agent *a, json_t *params, struct ctl_rpc_error *e)
{
	char err[VMM_ERR_MAX], console[VMM_PATH_MAX];
	struct agent_vm *vm;
	json_t *doc, *name;
	int slot = -1, rc;

	name = json_object_get(params, "name");
	if (!json_is_string(name))
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "\"name\" (a VM name) is required");
	if (agent_vm_find(a, json_string_value(name)) != NULL)
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "vm \"%.64s\" already exists",
			json_string_value(name));
	for (int i = 0; i < AGENT_MAX_VMS && slot < 0; i++)
		if (a->vms[i] == NULL)
			slot = i;
	if (slot < 0)
		return ctl_rpc_fail(e, CTL_RPC_FAILED, "at most %d VMs", AGENT_MAX_VMS);
	vm = calloc(1, sizeof(*vm));
	doc = json_deep_copy(params);
	if (vm == NULL || doc == NULL) {
		free(vm);
		json_decref(doc);
		return ctl_rpc_fail(e, CTL_RPC_INTERNAL, "out of memory");
	}
	/* The console log lives with the inventory; sockets in the run directory. */
	if (json_object_get(doc, "console") == NULL) {
		rc = snprintf(console, sizeof(console), "%s/%s.console.log", a->state_dir,
			json_string_value(name));
		if (rc > 0 && (size_t)rc < sizeof(console))
			json_object_set_new(doc, "console", json_string(console));
	}
	rc = vmm_spec_from_json(doc, a->run_dir, &vm->spec, err);
	json_decref(doc);
	if (rc == 0) {
		char path[VMM_SOCK_MAX];

		/* The run files must fit too (checked now, not at start). */
		if (vmm_run_path(&a->host, vm->spec.name, VMM_RUN_QMP, path, sizeof(path)) < 0 ||
			vmm_run_path(&a->host, vm->spec.name, VMM_RUN_CONSOLE, path, sizeof(path)) <
				0) {
			snprintf(err, sizeof(err), "vm \"%s\": run directory path too long",
				vm->spec.name);
			rc = -ENAMETOOLONG;
		}
	}
	if (rc < 0) {
		free(vm);
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
	}
	/* MACs and sockets must not clash with another VM's. */
	for (int i = 0; i < AGENT_MAX_VMS; i++) {
		const struct agent_vm *o = a->vms[i];

		for (unsigned j = 0; o != NULL && j < o->spec.n_nics; j++)
			for (unsigned k = 0; k < vm->spec.n_nics; k++) {
				if (memcmp(o->spec.nics[j].mac, vm->spec.nics[k].mac, 6) == 0 ||
					strcmp(o->spec.nics[j].socket, vm->spec.nics[k].socket) ==
						0) {
					ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
						"vm %s: nic %u: its %s is vm %s's nic %u's",
						vm->spec.name, k,
						memcmp(o->spec.nics[j].mac, vm->spec.nics[k].mac,
							6) == 0
							? "MAC"
							: "socket",
						o->spec.name, j);
					free(vm);
					return NULL;
				}
			}
	}
	if (check_networks(a, &vm->spec, e) < 0) {
		free(vm);
		return NULL;
	}
	if (agent_vm_save(a, vm, err) < 0) {
		free(vm);
		return ctl_rpc_fail(e, CTL_RPC_FAILED, "%s", err);
	}
	a->vms[slot] = vm;
	agent_log("vm %s: created", vm->spec.name);
	return agent_vm_to_json(a, vm, true);
}

/* Fork and exec QEMU in its own session; 0 and vm->pid, or -errno with err. */
static int
launch(struct agent *a, struct agent_vm *vm, char *err)
{
	char logpath[VMM_PATH_MAX];
	char **argv;
	sigset_t all;
	pid_t pid;
	int logfd, nullfd;

	argv = vmm_argv_build(&vm->spec, &a->host, err);
	if (argv == NULL)
		return -errno;
	if (qemu_log_path(a, vm->spec.name, logpath, sizeof(logpath)) < 0) {
		vmm_argv_free(argv);
		snprintf(err, VMM_ERR_MAX, "run directory path too long");
		return -ENAMETOOLONG;
	}
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0) {
		snprintf(err, VMM_ERR_MAX, "%.160s: %.60s", logpath, strerror(errno));
		goto fail;
	}
	dprintf(logfd, "---- portico-agent starts vm %s:", vm->spec.name);
	for (char **p = argv; *p != NULL; p++)
		dprintf(logfd, " %s", *p);
	dprintf(logfd, "\n");
	pid = fork();
	if (pid < 0) {
		snprintf(err, VMM_ERR_MAX, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* The child: its own session (it outlives the agent), default
		 * signals, stdin /dev/null, output in the log. */
		setsid();
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execvp(argv[0], argv);
		dprintf(2, "portico-agent: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(logfd);
	close(nullfd);
	vmm_argv_free(argv);
	vm->pid = pid;
	vm->child = true;
	return 0;

fail:
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	vmm_argv_free(argv);
	return -EIO;
}

json_t *
agent_vm_start(struct agent *a, struct agent_vm *vm, struct ctl_rpc_error *e)
{
	char err[VMM_ERR_MAX];
	int rc;

	switch (vm->state) {
	case AGENT_VM_RUNNING:
		return agent_vm_to_json(a, vm, true);
	case AGENT_VM_STARTING:
		return ctl_rpc_fail(e, AGENT_DEFERRED, "deferred");
	case AGENT_VM_STOPPING:
		return ctl_rpc_fail(e, CTL_RPC_FAILED, "vm %s is stopping", vm->spec.name);
	case AGENT_VM_STOPPED:
		break;
	}
	/* Ports first: QEMU waits for a backend on every NIC socket. */
	rc = agent_pd_ports_add(a, vm, err);
	if (rc < 0)
		return ctl_rpc_fail(e, CTL_RPC_FAILED, "vm %s: %s", vm->spec.name, err);
	remove_run_files(a, vm);
	rc = launch(a, vm, err);
	if (rc < 0) {
		agent_pd_ports_del(a, vm);
		return ctl_rpc_fail(e, CTL_RPC_FAILED, "vm %s: %s", vm->spec.name, err);
	}
	vm->state = AGENT_VM_STARTING;
	vm->want_running = true;
	vm->adopted = false;
	vm->last_error[0] = '\0';
	vm->started_ms = wall_ms();
	vm->deadline_ms = agent_now_ms() + AGENT_START_TIMEOUT_MS;
	vm->qmp_retry_ms = agent_now_ms() + QMP_RETRY_MS;
	for (unsigned i = 0; i < VMM_MAX_NICS; i++)
		memset(&vm->nic[i], 0, sizeof(vm->nic[i]));
	save_or_log(a, vm);
	agent_log("vm %s: QEMU started, pid %d (%s)", vm->spec.name, (int)vm->pid,
		a->host.kvm ? "KVM" : "TCG");
	return ctl_rpc_fail(e, AGENT_DEFERRED, "deferred");
}

/* Ask QEMU to quit (QMP) or SIGTERM it; SIGKILL after QUIT_GRACE_MS. */
static void
stop_quit(struct agent_vm *vm)
{
	if (vm->qmp != NULL && vmm_qmp_state(vm->qmp) == VMM_QMP_READY &&
		vmm_qmp_send(vm->qmp, "quit", NULL, NULL) == 0)
		;
	else if (vm->pid > 0)
		kill(vm->pid, SIGTERM);
	vm->stop_stage = 1;
	vm->deadline_ms = agent_now_ms() + QUIT_GRACE_MS;
}

json_t *
agent_vm_stop(
	struct agent *a, struct agent_vm *vm, bool force, int timeout_s, struct ctl_rpc_error *e)
{
	switch (vm->state) {
	case AGENT_VM_STOPPED:
		return agent_vm_to_json(a, vm, true);
	case AGENT_VM_STOPPING:
		if (force && vm->stop_stage == 0)
			stop_quit(vm);
		return ctl_rpc_fail(e, AGENT_DEFERRED, "deferred");
	case AGENT_VM_STARTING:
		force = true; /* the guest cannot shut down before it runs */
		break;
	case AGENT_VM_RUNNING:
		break;
	}
	if (vm->start_waiters != NULL) {
		struct ctl_rpc_error se;

		ctl_rpc_fail(
			&se, CTL_RPC_FAILED, "vm %s was stopped while starting", vm->spec.name);
		agent_reply_all(a, &vm->start_waiters, NULL, &se);
	}
	vm->state = AGENT_VM_STOPPING;
	vm->want_running = false;
	save_or_log(a, vm);
	if (force || timeout_s == 0 || vm->qmp == NULL || vmm_qmp_state(vm->qmp) != VMM_QMP_READY ||
		vmm_qmp_send(vm->qmp, "system_powerdown", NULL, NULL) < 0) {
		agent_log("vm %s: stopping (quit)", vm->spec.name);
		stop_quit(vm);
	} else {
		agent_log("vm %s: stopping (ACPI power button, %d s to shut down)", vm->spec.name,
			timeout_s);
		vm->stop_stage = 0;
		vm->deadline_ms = agent_now_ms() + (int64_t)timeout_s * 1000;
	}
	return ctl_rpc_fail(e, AGENT_DEFERRED, "deferred");
}

json_t *
agent_vm_destroy(struct agent *a, struct agent_vm *vm, struct ctl_rpc_error *e)
{
	char path[VMM_PATH_MAX + 8];

	if (vm->state != AGENT_VM_STOPPED)
		return ctl_rpc_fail(e, CTL_RPC_FAILED, "vm %s is %s: stop it first", vm->spec.name,
			state_names[vm->state]);
	if (state_path(a, vm->spec.name, path, VMM_PATH_MAX) == 0 && unlink(path) < 0 &&
		errno != ENOENT)
		return ctl_rpc_fail(
			e, CTL_RPC_FAILED, "cannot remove %s: %s", path, strerror(errno));
	unlink(vm->spec.console);
	if (qemu_log_path(a, vm->spec.name, path, VMM_PATH_MAX) == 0)
		unlink(path);
	for (int i = 0; i < AGENT_MAX_VMS; i++)
		if (a->vms[i] == vm)
			a->vms[i] = NULL;
	agent_log("vm %s: destroyed", vm->spec.name);
	agent_vm_free(vm);
	return json_null();
}

json_t *
agent_vm_to_json(const struct agent *a, const struct agent_vm *vm, bool full)
{
	char path[VMM_PATH_MAX], port[VMM_PORT_NAME_MAX], mac[18];
	json_t *o, *nics, *ports, *n;

	o = json_pack("{s:s, s:s, s:i}", "name", vm->spec.name, "state", state_names[vm->state],
		"pid", (int)vm->pid);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "vcpus", json_integer(vm->spec.vcpus));
	json_object_set_new(o, "memory", json_integer(vm->spec.memory));
	if (!full) {
		ports = json_array();
		for (unsigned i = 0; i < vm->spec.n_nics; i++)
			if (vmm_nic_port_name(&vm->spec, i, port) == 0)
				json_array_append_new(ports, json_string(port));
		json_object_set_new(o, "ports", ports);
		json_object_set_new(
			o, "error", vm->last_error[0] ? json_string(vm->last_error) : json_null());
		return o;
	}
	json_object_set_new(o, "accel", json_string(a->host.kvm ? "kvm" : "tcg"));
	json_object_set_new(o, "adopted", json_boolean(vm->adopted));
	json_object_set_new(o, "qmp",
		json_string(vm->qmp == NULL				  ? "disconnected"
				: vmm_qmp_state(vm->qmp) == VMM_QMP_READY ? "ready"
									  : "connecting"));
	json_object_set_new(o, "started",
		vm->state != AGENT_VM_STOPPED ? json_integer(vm->started_ms / 1000) : json_null());
	nics = json_array();
	for (unsigned i = 0; i < vm->spec.n_nics; i++) {
		const struct vmm_nic *nic = &vm->spec.nics[i];
		const struct agent_nic_report *r = &vm->nic[i];

		vmm_nic_port_name(&vm->spec, i, port);
		vmm_mac_format(nic->mac, mac);
		n = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "port", port, "vswitch",
			nic->vswitch, "portgroup", nic->portgroup, "mac", mac, "queues",
			(int)nic->queues, "socket", nic->socket);
		if (n == NULL)
			continue;
		if (r->known) {
			vmm_mac_format(r->mac, mac);
			json_object_set_new(n, "guest_mac", json_string(mac));
			json_object_set_new(n, "guest_promisc", json_boolean(r->promisc));
			json_object_set_new(n, "reported", json_boolean(r->sent));
		} else {
			json_object_set_new(n, "guest_mac", json_null());
			json_object_set_new(n, "guest_promisc", json_null());
			json_object_set_new(n, "reported", json_false());
		}
		json_array_append_new(nics, n);
	}
	json_object_set_new(o, "nics", nics);
	json_object_set_new(o, "console", json_string(vm->spec.console));
	if (agent_console_path(a, vm->spec.name, path, sizeof(path)) == 0)
		json_object_set_new(o, "console_socket", json_string(path));
	json_object_set_new(
		o, "error", vm->last_error[0] ? json_string(vm->last_error) : json_null());
	json_object_set_new(o, "spec", vmm_spec_to_json(&vm->spec));
	return o;
}

/* Write text to the console socket (the guest reads it as typed input). */
static int
console_write(const char *path, const char *text, char *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pollfd pfd;
	size_t len = strlen(text), off = 0;
	ssize_t n;
	int fd, rc = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		snprintf(err, VMM_ERR_MAX, "console %s: %s", path, strerror(errno));
		goto out;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	while (off < len) {
		n = send(fd, text + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR) && poll(&pfd, 1, 1000) > 0)
			continue;
		rc = -EIO;
		snprintf(err, VMM_ERR_MAX, "console %s: input not taken", path);
		break;
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

json_t *
agent_vm_console(struct agent *a, struct agent_vm *vm, json_t *params, struct ctl_rpc_error *e)
{
	json_t *lines = json_object_get(params, "lines"), *input = json_object_get(params, "input");
	char path[VMM_SOCK_MAX], err[VMM_ERR_MAX];
	unsigned n = CONSOLE_LINES_DEFAULT;
	json_t *res;
	char *tail;

	if (lines != NULL) {
		if (!json_is_integer(lines) || json_integer_value(lines) < 0 ||
			json_integer_value(lines) > CONSOLE_LINES_MAX)
			return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "\"lines\" must be 0..%d",
				CONSOLE_LINES_MAX);
		n = (unsigned)json_integer_value(lines);
	}
	if (input != NULL && !json_is_string(input))
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "\"input\" must be a string");
	if (agent_console_path(a, vm->spec.name, path, sizeof(path)) < 0)
		return ctl_rpc_fail(e, CTL_RPC_INTERNAL, "console socket path too long");
	if (input != NULL) {
		if (vm->state == AGENT_VM_STOPPED)
			return ctl_rpc_fail(e, CTL_RPC_FAILED, "vm %s is stopped", vm->spec.name);
		if (console_write(path, json_string_value(input), err) < 0)
			return ctl_rpc_fail(e, CTL_RPC_FAILED, "%s", err);
	}
	tail = n > 0 ? file_tail(vm->spec.console, n, CONSOLE_TAIL_MAX) : strdup("");
	res = json_pack("{s:s, s:s, s:s, s:s}", "name", vm->spec.name, "log", vm->spec.console,
		"socket", path, "text", tail != NULL ? tail : "");
	free(tail);
	return res != NULL ? res : ctl_rpc_fail(e, CTL_RPC_INTERNAL, "out of memory");
}

/* Ask QEMU what the guest set on NIC i (also re-arms NIC_RX_FILTER_CHANGED). */
static void
query_rx_filter(struct agent_vm *vm, unsigned i)
{
	char nic[16];
	json_t *args;

	if (vm->qmp == NULL || vmm_qmp_state(vm->qmp) != VMM_QMP_READY)
		return;
	snprintf(nic, sizeof(nic), "nic%u", i);
	args = json_pack("{s:s}", "name", nic);
	if (vmm_qmp_send(vm->qmp, "query-rx-filter", args, &vm->nic[i].query_id) < 0)
		vm->nic[i].query_id = 0;
	json_decref(args);
}

/*
 * Ask the guest to announce itself (gratuitous ARP and IPv6 NA, through
 * virtio-net's GUEST_ANNOUNCE; QEMU sends RARPs for NICs without it), five
 * times: the first 50 ms from now, each gap 100 ms longer than the last
 * (QEMU's announce timer, up to 550 ms). After porticod came back, a guest's
 * neighbours have flushed their entries for it on the carrier loss QEMU
 * showed them, and would wait out their ARP retransmit timer (1 s) before
 * asking again: the announcement answers them first.
 */
void
agent_vm_announce(struct agent_vm *vm)
{
	json_t *args;

	if (vm->state != AGENT_VM_RUNNING || vm->qmp == NULL ||
		vmm_qmp_state(vm->qmp) != VMM_QMP_READY)
		return;
	args = json_pack(
		"{s:i, s:i, s:i, s:i}", "initial", 50, "max", 550, "rounds", 5, "step", 100);
	if (args == NULL || vmm_qmp_send(vm->qmp, "announce-self", args, NULL) < 0)
		agent_log("vm %s: cannot ask QEMU to announce the guest", vm->spec.name);
	json_decref(args);
}

/* A query-rx-filter reply for NIC i. */
static void
rx_filter_reply(struct agent *a, struct agent_vm *vm, unsigned i, json_t *ret)
{
	struct agent_nic_report *r = &vm->nic[i];
	json_t *f = json_array_get(ret, 0);
	json_t *mac = json_object_get(f, "main-mac"), *promisc = json_object_get(f, "promiscuous");
	uint8_t m[6];

	r->query_id = 0;
	if (!json_is_string(mac) || vmm_mac_parse(json_string_value(mac), m) < 0 ||
		!json_is_boolean(promisc)) {
		agent_log("vm %s: nic%u: unexpected query-rx-filter answer", vm->spec.name, i);
		return;
	}
	if (r->known && memcmp(r->mac, m, 6) == 0 && r->promisc == json_is_true(promisc))
		return;
	r->known = true;
	memcpy(r->mac, m, 6);
	r->promisc = json_is_true(promisc);
	r->sent = false;
	agent_pd_report(a, vm);
}

static void
qmp_ready(struct agent *a, struct agent_vm *vm)
{
	json_t *res;

	for (unsigned i = 0; i < vm->spec.n_nics; i++)
		query_rx_filter(vm, i);
	if (vm->state != AGENT_VM_STARTING) {
		agent_log("vm %s: QMP connected", vm->spec.name);
		return;
	}
	vm->state = AGENT_VM_RUNNING;
	agent_log("vm %s: running (QMP ready %.1f s after launch)", vm->spec.name,
		(double)(wall_ms() - vm->started_ms) / 1000.0);
	res = agent_vm_to_json(a, vm, true);
	agent_reply_all(a, &vm->start_waiters, res, NULL);
	json_decref(res);
}

void
agent_vm_qmp_input(struct agent *a, struct agent_vm *vm)
{
	struct vmm_qmp_msg msg;
	int rc;

	while (vm->qmp != NULL && (rc = vmm_qmp_next(vm->qmp, &msg)) != 0) {
		if (rc < 0) {
			if (vm->state != AGENT_VM_STOPPING)
				agent_log("vm %s: QMP closed: %s", vm->spec.name,
					vmm_qmp_error(vm->qmp));
			vmm_qmp_close(vm->qmp);
			vm->qmp = NULL;
			vm->qmp_retry_ms = agent_now_ms() + QMP_RETRY_MS;
			/* Our child: SIGCHLD tells. Adopted: the tick checks /proc. */
			return;
		}
		switch (msg.kind) {
		case VMM_QMP_MSG_READY:
			qmp_ready(a, vm);
			break;
		case VMM_QMP_MSG_EVENT:
			if (strcmp(msg.event, "NIC_RX_FILTER_CHANGED") == 0) {
				json_t *name = json_object_get(msg.data, "name");
				unsigned i;

				if (json_is_string(name) &&
					sscanf(json_string_value(name), "nic%u", &i) == 1 &&
					i < vm->spec.n_nics)
					query_rx_filter(vm, i);
			} else if (strcmp(msg.event, "SHUTDOWN") == 0 ||
				strcmp(msg.event, "POWERDOWN") == 0) {
				agent_log("vm %s: %s", vm->spec.name, msg.event);
			}
			break;
		case VMM_QMP_MSG_RETURN:
		case VMM_QMP_MSG_ERROR:
			for (unsigned i = 0; i < vm->spec.n_nics; i++) {
				if (vm->nic[i].query_id != msg.id || msg.id == 0)
					continue;
				if (msg.kind == VMM_QMP_MSG_RETURN)
					rx_filter_reply(a, vm, i, msg.data);
				else
					vm->nic[i].query_id = 0;
			}
			break;
		}
		json_decref(msg.data);
	}
}

void
agent_vm_reap(struct agent *a)
{
	char why[64];
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < AGENT_MAX_VMS; i++) {
			struct agent_vm *vm = a->vms[i];

			if (vm == NULL || vm->pid != pid || !vm->child)
				continue;
			if (WIFEXITED(status))
				snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
			else
				snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
			vm_exited(a, vm, why);
		}
	}
}

void
agent_vm_tick(struct agent *a)
{
	int64_t now = agent_now_ms();
	char path[VMM_SOCK_MAX], hint[160];

	for (int v = 0; v < AGENT_MAX_VMS; v++) {
		struct agent_vm *vm = a->vms[v];

		if (vm == NULL || vm->state == AGENT_VM_STOPPED)
			continue;
		/* An adopted QEMU is not our child: find its exit in /proc. */
		if (!vm->child && vm->qmp == NULL && !qemu_alive(vm->pid, vm->spec.name)) {
			vm_exited(a, vm, "QEMU is gone");
			continue;
		}
		if (vm->qmp == NULL && now >= vm->qmp_retry_ms &&
			vmm_run_path(&a->host, vm->spec.name, VMM_RUN_QMP, path, sizeof(path)) ==
				0) {
			vm->qmp = vmm_qmp_open(path);
			vm->qmp_retry_ms = now + QMP_RETRY_MS;
		}
		if (vm->state == AGENT_VM_STARTING && now > vm->deadline_ms) {
			qemu_log_hint(a, vm, hint, sizeof(hint));
			agent_log("vm %s: QMP did not answer within %d s: killing QEMU (%s)",
				vm->spec.name, AGENT_START_TIMEOUT_MS / 1000, hint);
			vm->state = AGENT_VM_STOPPING;
			kill(vm->pid, SIGKILL);
			vm->stop_stage = 2;
			vm->deadline_ms = now + QUIT_GRACE_MS;
			snprintf(vm->last_error, sizeof(vm->last_error),
				"QMP did not answer within %d s (are porticod and the port groups "
				"there?)",
				AGENT_START_TIMEOUT_MS / 1000);
			if (vm->start_waiters != NULL) {
				struct ctl_rpc_error e;

				ctl_rpc_fail(&e, CTL_RPC_FAILED, "vm %s: %s", vm->spec.name,
					vm->last_error);
				agent_reply_all(a, &vm->start_waiters, NULL, &e);
			}
		}
		if (vm->state == AGENT_VM_STOPPING && now > vm->deadline_ms) {
			if (vm->stop_stage == 0) {
				agent_log("vm %s: guest did not shut down in time: quit",
					vm->spec.name);
				stop_quit(vm);
			} else if (vm->stop_stage == 1) {
				agent_log("vm %s: QEMU did not quit: SIGKILL", vm->spec.name);
				kill(vm->pid, SIGKILL);
				vm->stop_stage = 2;
				vm->deadline_ms = now + QUIT_GRACE_MS;
			} else if (!vm->child && !qemu_alive(vm->pid, vm->spec.name)) {
				vm_exited(a, vm, "killed");
			}
		}
	}
}

/* Load one inventory file; re-adopt its QEMU if it still runs. */
static void
load_one(struct agent *a, const char *file, int slot)
{
	char path[VMM_PATH_MAX + 300], err[VMM_ERR_MAX];
	json_t *doc, *spec, *running;
	struct agent_vm *vm;
	json_error_t jerr;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", a->state_dir, file);
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	spec = json_object_get(doc, "spec");
	running = json_object_get(doc, "running");
	vm = calloc(1, sizeof(*vm));
	if (doc == NULL || !json_is_object(spec) || vm == NULL ||
		vmm_spec_from_json(spec, a->run_dir, &vm->spec, err) < 0) {
		agent_log("%s: ignored: %s", path,
			doc == NULL	     ? jerr.text
				: vm == NULL ? "out of memory"
					     : err);
		free(vm);
		json_decref(doc);
		return;
	}
	json_decref(doc);
	if (agent_vm_find(a, vm->spec.name) != NULL) {
		agent_log("%s: ignored: vm %s is already known", path, vm->spec.name);
		free(vm);
		return;
	}
	vm->want_running = json_is_true(running);
	a->vms[slot] = vm;
	pid = read_pidfile(a, vm->spec.name);
	if (qemu_alive(pid, vm->spec.name)) {
		/* Still running: adopt it; QMP reconnects and reports again, and
		 * porticod's ports are checked when porticod is (re)connected. */
		vm->pid = pid;
		vm->child = false;
		vm->adopted = true;
		vm->state = AGENT_VM_RUNNING;
		vm->want_running = true;
		vm->started_ms = wall_ms();
		vm->qmp_retry_ms = 0;
		agent_log("vm %s: adopted running QEMU pid %d", vm->spec.name, (int)pid);
		return;
	}
	vm->state = AGENT_VM_STOPPED;
	if (vm->want_running) {
		snprintf(vm->last_error, sizeof(vm->last_error),
			"QEMU exited while no agent was running");
		agent_log("vm %s: %s (not restarted)", vm->spec.name, vm->last_error);
		vm->want_running = false;
		remove_run_files(a, vm);
		save_or_log(a, vm);
	}
}

int
agent_vm_load_all(struct agent *a)
{
	struct dirent *de;
	DIR *d;
	int slot = 0;
	size_t len;

	d = opendir(a->state_dir);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL && slot < AGENT_MAX_VMS) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0 || de->d_name[0] == '.')
			continue;
		load_one(a, de->d_name, slot);
		if (a->vms[slot] != NULL)
			slot++;
	}
	closedir(d);
	return 0;
}
