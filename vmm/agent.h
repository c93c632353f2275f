/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * portico-agent: the host agent. Internal header shared by vmm/agent*.c.
 *
 * One thread, one poll loop (agent_main.c) over:
 *  - the local JSON-RPC socket and, with --listen, the TLS listener and
 *    their clients (agent_net.c): one JSON object per line each way;
 *  - one QMP connection per running VM (agent_vm.c): readiness, the guest's
 *    RX filter (effective MAC, promiscuous mode), SHUTDOWN;
 *  - the connection to porticod's control socket (agent_porticod.c):
 *    ports of running VMs, reported guest state, proxied methods;
 *  - a signalfd for SIGCHLD (QEMUs it started) and SIGTERM/SIGINT/SIGHUP.
 *
 * Methods (agent_rpc.c): vm.create|start|stop|destroy|list|show|console;
 * any other method is forwarded to porticod. vm.start and vm.stop answer
 * when the VM is running / gone: their reply is deferred (struct
 * agent_waiter) while the loop goes on.
 *
 * Files: the inventory is <state-dir>/<vm>.json ({"spec": SPEC, "running":
 * BOOL}), written atomically; run files of a VM are in <run-dir>: QMP
 * socket, pidfile, serial console socket, vhost-user sockets, QEMU's own
 * log. QEMU runs in its own session, so it outlives the agent; a new agent
 * re-adopts it through the pidfile and the QMP socket.
 */
#ifndef PORTICO_VMM_AGENT_H
#define PORTICO_VMM_AGENT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "control/rpc.h"
#include "control/rpc_client.h"
#include "vmm/argv.h"
#include "vmm/qmp.h"
#include "vmm/spec.h"

#define AGENT_DEFAULT_SOCKET "/run/portico/agent.sock"
#define AGENT_DEFAULT_PORTICOD "/run/portico/porticod.sock"
#define AGENT_DEFAULT_STATE_DIR "/var/lib/portico/agent"
#define AGENT_DEFAULT_RUN_DIR "/run/portico/agent"
#define AGENT_MAX_VMS 256
#define AGENT_MAX_CONNS 64 /* local and remote clients together */
#define AGENT_LINE_MAX (1u << 20) /* longest request line */
#define AGENT_START_TIMEOUT_MS 60000 /* QEMU must answer QMP within this */
#define AGENT_STOP_TIMEOUT_S 30 /* default grace of a guest shutdown */
#define AGENT_PORTICOD_TIMEOUT_MS 5000 /* bound of one porticod call */
#define AGENT_PORTICOD_RETRY_MS 50 /* reconnect period while porticod is away */
#define AGENT_DEFERRED 1 /* ctl_rpc_error code: the method answers later */

/* Which accelerator to give QEMU. */
enum agent_accel {
	AGENT_ACCEL_AUTO, /* KVM if a QEMU with KVM starts (-S probe), else TCG */
	AGENT_ACCEL_KVM, /* always KVM */
	AGENT_ACCEL_TCG, /* always TCG */
};

/* Life cycle of a VM as the agent sees it. */
enum agent_vm_state {
	AGENT_VM_STOPPED, /* no QEMU, no ports */
	AGENT_VM_STARTING, /* ports added, QEMU launched, QMP not ready yet */
	AGENT_VM_RUNNING, /* QMP ready */
	AGENT_VM_STOPPING, /* asked to stop, QEMU not gone yet */
};

/* What the guest set on one NIC, as read from query-rx-filter. */
struct agent_nic_report {
	bool known; /* a query-rx-filter answered since QMP connected */
	uint8_t mac[6]; /* main-mac: the guest's current MAC */
	bool promisc; /* promiscuous: the guest asked for every frame */
	bool sent; /* porticod has this report (reset when porticod reconnects) */
	json_int_t query_id; /* outstanding query-rx-filter's id, 0 if none */
};

/* Where to send a deferred reply. */
struct agent_waiter {
	uint64_t conn; /* agent_conn id (0: nobody waits) */
	json_t *id; /* the request's JSON-RPC id (owned) */
	struct agent_waiter *next; /* next waiter of the same VM */
};

/* One VM of the inventory. */
struct agent_vm {
	struct vmm_spec spec; /* resolved, validated spec */
	enum agent_vm_state state; /* see enum */
	bool want_running; /* persisted: the VM should be running */
	pid_t pid; /* QEMU's pid, 0 if none */
	bool child; /* pid is our child (reaped on SIGCHLD), else adopted */
	bool adopted; /* this agent found it running at start */
	struct vmm_qmp *qmp; /* QMP connection, NULL if none */
	int64_t qmp_retry_ms; /* when to try connecting QMP again */
	int64_t deadline_ms; /* STARTING: give up; STOPPING: escalate */
	int stop_stage; /* STOPPING: 0 powerdown sent, 1 quit sent, 2 SIGKILL sent */
	int64_t started_ms; /* wall clock (ms) when QEMU was launched or adopted */
	struct agent_nic_report nic[VMM_MAX_NICS]; /* guest's RX filter per NIC */
	struct agent_waiter *start_waiters; /* vm.start calls waiting for RUNNING */
	struct agent_waiter *stop_waiters; /* vm.stop calls waiting for STOPPED */
	char last_error[VMM_ERR_MAX]; /* why it last failed or stopped unexpectedly */
};

struct agent_conn; /* a client connection (agent_net.c) */
struct agent_net; /* the listeners and connections (agent_net.c) */

/* The agent. */
struct agent {
	char state_dir[VMM_PATH_MAX]; /* inventory directory */
	char run_dir[VMM_PATH_MAX]; /* run files directory */
	char porticod_path[VMM_SOCK_MAX]; /* porticod's control socket */
	struct vmm_host host; /* what the argv builder needs */
	char qemu[VMM_PATH_MAX]; /* host.qemu points here */
	char kvm_cpu[128]; /* host.kvm_cpu points here ("" for NULL) */
	struct agent_vm *vms[AGENT_MAX_VMS]; /* the inventory; NULL slots free */
	struct agent_net *net; /* clients */
	struct ctl_client pd; /* porticod connection (pd.fd < 0: none) */
	bool pd_up; /* connected and reconciled */
	int64_t pd_retry_ms; /* next connect attempt */
	bool stopping; /* SIGTERM: leave the loop */
};

/* agent_main.c */
int64_t agent_now_ms(void); /* CLOCK_MONOTONIC in ms */
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* agent_vm.c: inventory and life cycle */
struct agent_vm *agent_vm_find(struct agent *a, const char *name);
int agent_vm_load_all(struct agent *a); /* read the inventory, re-adopt running QEMUs */
int agent_vm_save(struct agent *a, const struct agent_vm *vm, char *err);
json_t *agent_vm_create(struct agent *a, json_t *params, struct ctl_rpc_error *e);
json_t *agent_vm_start(struct agent *a, struct agent_vm *vm, struct ctl_rpc_error *e);
json_t *agent_vm_stop(
	struct agent *a, struct agent_vm *vm, bool force, int timeout_s, struct ctl_rpc_error *e);
json_t *agent_vm_destroy(struct agent *a, struct agent_vm *vm, struct ctl_rpc_error *e);
json_t *agent_vm_to_json(const struct agent *a, const struct agent_vm *vm, bool full);
json_t *agent_vm_console(
	struct agent *a, struct agent_vm *vm, json_t *params, struct ctl_rpc_error *e);
void agent_vm_tick(struct agent *a); /* timers: QMP connects, deadlines, exits */
void agent_vm_qmp_input(struct agent *a, struct agent_vm *vm); /* QMP fd readable */
void agent_vm_reap(struct agent *a); /* SIGCHLD */
void agent_vm_announce(struct agent_vm *vm); /* QMP announce-self, in rounds */
void agent_vm_free(struct agent_vm *vm);
int agent_console_path(const struct agent *a, const char *vm, char *buf, size_t size);
void agent_waiter_add(struct agent_waiter **list, uint64_t conn, json_t *id);

/* agent_porticod.c: porticod's control socket */
int agent_pd_call(struct agent *a, const char *method, json_t *params, json_t **result,
	json_t **error); /* params borrowed; 0 (reply: result or error) or -errno */
void agent_pd_tick(struct agent *a); /* reconnect, reconcile */
void agent_pd_input(struct agent *a); /* its fd readable: porticod went away */
int agent_pd_ports_add(struct agent *a, const struct agent_vm *vm, char *err);
void agent_pd_ports_del(struct agent *a, const struct agent_vm *vm);
void agent_pd_report(struct agent *a, struct agent_vm *vm); /* send unsent NIC reports */

/* agent_rpc.c: methods */
char *agent_rpc_handle(struct agent *a, uint64_t conn, const char *line, size_t len);
void agent_reply(struct agent *a, struct agent_waiter *w, json_t *result,
	const struct ctl_rpc_error *e); /* answer and free one waiter */
void agent_reply_all(struct agent *a, struct agent_waiter **list, json_t *result,
	const struct ctl_rpc_error *e); /* answer and free a list (result borrowed) */

/* agent_net.c: listeners and clients */
struct agent_tls_opts {
	const char *listen; /* "HOST:PORT", NULL for no remote API */
	const char *ca; /* CA certificate(s) clients must be signed by */
	const char *cert; /* server certificate (chain) */
	const char *key; /* its private key */
};
struct agent_net *agent_net_new(
	struct agent *a, const char *sock_path, const struct agent_tls_opts *tls, char *err);
void agent_net_free(struct agent_net *n);
int agent_net_pollfds(struct agent_net *n, struct pollfd *pfd, int max); /* fill; count */
void agent_net_events(struct agent_net *n, const struct pollfd *pfd, int count);
int agent_net_send(struct agent_net *n, uint64_t conn, const char *line); /* -ENOENT: gone */

#endif /* PORTICO_VMM_AGENT_H */
