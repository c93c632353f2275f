/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * portico-agent: main(), options, the KVM probe and the poll loop (see
 * agent.h for how the parts fit).
 *
 *   portico-agent [--socket PATH] [--porticod-socket PATH] [--state-dir DIR]
 *                 [--run-dir DIR] [--qemu PATH] [--accel auto|kvm|tcg]
 *                 [--kvm-cpu MODEL]
 *                 [--listen HOST:PORT --ca FILE --cert FILE --key FILE]
 *
 * SIGTERM/SIGINT stop the agent and leave every QEMU running: the next agent
 * adopts them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm/agent.h"

#define PROBE_TIMEOUT_MS 10000 /* a QEMU probing KVM must greet within this */
#define LOOP_MS 100 /* poll timeout: the period of the timers */

int64_t
agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
agent_log(const char *fmt, ...)
{
	char stamp[32];
	struct tm tm;
	time_t t = time(NULL);
	va_list ap;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s portico-agent: ", stamp);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: portico-agent [--socket PATH] [--porticod-socket PATH] [--state-dir DIR]\n"
		"                     [--run-dir DIR] [--qemu PATH] [--accel auto|kvm|tcg]\n"
		"                     [--kvm-cpu MODEL]\n"
		"                     [--listen HOST:PORT --ca FILE --cert FILE --key FILE]\n"
		"\n"
		"  --socket PATH           JSON-RPC socket (default " AGENT_DEFAULT_SOCKET ")\n"
		"  --porticod-socket PATH  porticod's control socket "
		"(default " AGENT_DEFAULT_PORTICOD ")\n"
		"  --state-dir DIR         VM inventory and console logs "
		"(default " AGENT_DEFAULT_STATE_DIR ")\n"
		"  --run-dir DIR           QMP, console and vhost-user sockets, pidfiles (default\n"
		"                          " AGENT_DEFAULT_RUN_DIR ")\n"
		"  --qemu PATH             QEMU binary (default qemu-system-x86_64)\n"
		"  --accel MODE            auto (default: KVM if a QEMU with KVM starts), kvm, "
		"tcg\n"
		"  --kvm-cpu MODEL         -cpu under KVM (default host; auto falls back to\n"
		"                          host,-arch-capabilities)\n"
		"  --listen HOST:PORT      remote API: TLS 1.2+, clients must present a "
		"certificate\n"
		"  --ca FILE               signed by this CA; --cert/--key: the agent's own\n");
}

/*
 * Does a QEMU with KVM and -cpu cpu start? Started paused (-S) with QMP on
 * stdout: its greeting means it got past KVM's vCPU setup.
 */
static bool
kvm_starts(const char *qemu, const char *cpu)
{
	char *argv[] = {(char *)qemu, "-accel", "kvm", "-cpu", (char *)cpu, "-machine", "q35", "-m",
		"64", "-nodefaults", "-display", "none", "-S", "-qmp", "stdio", NULL};
	int64_t deadline = agent_now_ms() + PROBE_TIMEOUT_MS;
	char buf[512];
	size_t got = 0;
	bool ok = false;
	int pfd[2], status;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return false;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return false;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(null, 2);
		execvp(qemu, argv);
		_exit(127);
	}
	close(pfd[1]);
	while (!ok && got < sizeof(buf) - 1) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int64_t left = deadline - agent_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = read(pfd[0], buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		ok = strstr(buf, "\"QMP\"") != NULL;
	}
	close(pfd[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return ok;
}

static int
mkdirs(const char *path, mode_t mode)
{
	char buf[VMM_PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int
copy_opt(char *dst, size_t size, const char *src, const char *what)
{
	if (strlen(src) >= size || src[0] == '\0') {
		fprintf(stderr, "portico-agent: %s: empty or too long\n", what);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"porticod-socket", required_argument, NULL, 'p'},
		{"state-dir", required_argument, NULL, 'd'},
		{"run-dir", required_argument, NULL, 'r'},
		{"qemu", required_argument, NULL, 'q'},
		{"accel", required_argument, NULL, 'a'},
		{"kvm-cpu", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"ca", required_argument, NULL, 'A'},
		{"cert", required_argument, NULL, 'C'},
		{"key", required_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct pollfd pfd[1 + AGENT_MAX_CONNS + 2 + 1 + AGENT_MAX_VMS];
	struct agent_tls_opts tls = {0};
	const char *sock = AGENT_DEFAULT_SOCKET;
	enum agent_accel accel = AGENT_ACCEL_AUTO;
	static struct agent a; /* large: not on the stack */
	int vm_slot[AGENT_MAX_VMS];
	char err[VMM_ERR_MAX];
	int opt, sfd, n, nnet, pd_idx, vm_base, rc = 1;
	sigset_t mask;

	snprintf(a.state_dir, sizeof(a.state_dir), "%s", AGENT_DEFAULT_STATE_DIR);
	snprintf(a.run_dir, sizeof(a.run_dir), "%s", AGENT_DEFAULT_RUN_DIR);
	snprintf(a.porticod_path, sizeof(a.porticod_path), "%s", AGENT_DEFAULT_PORTICOD);
	snprintf(a.qemu, sizeof(a.qemu), "qemu-system-x86_64");
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 'p':
			if (copy_opt(a.porticod_path, sizeof(a.porticod_path), optarg,
				    "--porticod-socket") < 0)
				return 2;
			break;
		case 'd':
			if (copy_opt(a.state_dir, sizeof(a.state_dir), optarg, "--state-dir") < 0)
				return 2;
			break;
		case 'r':
			if (copy_opt(a.run_dir, sizeof(a.run_dir), optarg, "--run-dir") < 0)
				return 2;
			break;
		case 'q':
			if (copy_opt(a.qemu, sizeof(a.qemu), optarg, "--qemu") < 0)
				return 2;
			break;
		case 'a':
			if (strcmp(optarg, "auto") == 0)
				accel = AGENT_ACCEL_AUTO;
			else if (strcmp(optarg, "kvm") == 0)
				accel = AGENT_ACCEL_KVM;
			else if (strcmp(optarg, "tcg") == 0)
				accel = AGENT_ACCEL_TCG;
			else {
				fprintf(stderr, "portico-agent: --accel auto|kvm|tcg\n");
				return 2;
			}
			break;
		case 'c':
			if (copy_opt(a.kvm_cpu, sizeof(a.kvm_cpu), optarg, "--kvm-cpu") < 0)
				return 2;
			break;
		case 'l':
			tls.listen = optarg;
			break;
		case 'A':
			tls.ca = optarg;
			break;
		case 'C':
			tls.cert = optarg;
			break;
		case 'K':
			tls.key = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || a.state_dir[0] != '/' || a.run_dir[0] != '/') {
		if (optind != argc)
			fprintf(stderr, "portico-agent: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr,
				"portico-agent: --state-dir and --run-dir must be absolute\n");
		usage(stderr);
		return 2;
	}
	if ((tls.ca || tls.cert || tls.key) && tls.listen == NULL) {
		fprintf(stderr, "portico-agent: --ca, --cert and --key go with --listen\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mkdirs(a.state_dir, 0750) < 0 || mkdirs(a.run_dir, 0750) < 0) {
		fprintf(stderr, "portico-agent: cannot create %s or %s: %s\n", a.state_dir,
			a.run_dir, strerror(errno));
		return 1;
	}

	/* The accelerator, decided once. */
	a.host.qemu = a.qemu;
	a.host.run_dir = a.run_dir;
	a.host.kvm = accel == AGENT_ACCEL_KVM;
	if (accel == AGENT_ACCEL_AUTO && access("/dev/kvm", R_OK | W_OK) == 0) {
		const char *cpu = a.kvm_cpu[0] ? a.kvm_cpu : "host";

		if (kvm_starts(a.qemu, cpu)) {
			a.host.kvm = true;
		} else if (a.kvm_cpu[0] == '\0' && kvm_starts(a.qemu, "host,-arch-capabilities")) {
			snprintf(a.kvm_cpu, sizeof(a.kvm_cpu), "host,-arch-capabilities");
			a.host.kvm = true;
		}
	}
	a.host.kvm_cpu = a.kvm_cpu[0] ? a.kvm_cpu : NULL;
	agent_log("QEMU %s with %s%s%s", a.qemu, a.host.kvm ? "KVM, -cpu " : "TCG",
		a.host.kvm ? (a.host.kvm_cpu ? a.host.kvm_cpu : "host") : "",
		accel == AGENT_ACCEL_AUTO ? " (auto)" : "");

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "portico-agent: signalfd: %s\n", strerror(errno));
		return 1;
	}

	a.pd.fd = -1;
	a.net = agent_net_new(&a, sock, &tls, err);
	if (a.net == NULL) {
		fprintf(stderr, "portico-agent: %s\n", err);
		goto out;
	}
	if (agent_vm_load_all(&a) < 0)
		agent_log("cannot read %s: %s", a.state_dir, strerror(errno));
	agent_log("serving %s%s%s; porticod at %s; state in %s", sock,
		tls.listen ? " and TLS on " : "", tls.listen ? tls.listen : "", a.porticod_path,
		a.state_dir);

	while (!a.stopping) {
		agent_pd_tick(&a);
		agent_vm_tick(&a);

		n = 0;
		pfd[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		nnet = agent_net_pollfds(a.net, pfd + n, AGENT_MAX_CONNS + 2);
		n += nnet;
		pd_idx = -1;
		if (a.pd.fd >= 0) {
			pd_idx = n;
			pfd[n++] = (struct pollfd){.fd = a.pd.fd, .events = POLLIN};
		}
		vm_base = n;
		for (int i = 0; i < AGENT_MAX_VMS; i++) {
			if (a.vms[i] == NULL || a.vms[i]->qmp == NULL)
				continue;
			vm_slot[n - vm_base] = i;
			pfd[n++] =
				(struct pollfd){.fd = vmm_qmp_fd(a.vms[i]->qmp), .events = POLLIN};
		}
		if (poll(pfd, (nfds_t)n, LOOP_MS) < 0 && errno != EINTR) {
			agent_log("poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					agent_vm_reap(&a);
				else
					a.stopping = true;
			}
		}
		agent_net_events(a.net, pfd + 1, nnet);
		if (pd_idx >= 0 && pfd[pd_idx].revents && a.pd.fd == pfd[pd_idx].fd)
			agent_pd_input(&a);
		for (int k = vm_base; k < n; k++) {
			struct agent_vm *vm = a.vms[vm_slot[k - vm_base]];

			/* A method may have closed it meanwhile: check it is the same. */
			if (pfd[k].revents && vm != NULL && vm->qmp != NULL &&
				vmm_qmp_fd(vm->qmp) == pfd[k].fd)
				agent_vm_qmp_input(&a, vm);
		}
	}
	agent_log("stopping; %s", "QEMUs keep running");
	rc = 0;
out:
	agent_net_free(a.net);
	ctl_client_close(&a.pd);
	for (int i = 0; i < AGENT_MAX_VMS; i++)
		agent_vm_free(a.vms[i]);
	close(sfd);
	return rc;
}
