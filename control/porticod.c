/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porticod: the Portico switch daemon.
 *
 *   porticod [--config FILE] [--socket PATH] [--lcores LIST] [-- EAL args]
 *
 * Loads and validates the state file before anything else (a bad file is a
 * clear error and exit code 2, never a half-applied config), starts EAL and
 * the workers, applies the config, then serves the control socket from the
 * main lcore until SIGINT/SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "control/apply.h"
#include "control/capture.h"
#include "control/methods.h"
#include "control/rates.h"
#include "control/server.h"

#define DEFAULT_CONFIG "/var/lib/portico/porticod.json"
#define DEFAULT_SOCKET "/run/portico/porticod.sock"
#define N_MBUFS 32767
#define EXIT_BADCONFIG 2
#define EXIT_APPLY 3

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	quit = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: porticod [--config FILE] [--socket PATH] [--lcores LIST] [-- EAL args]\n"
		"  --config FILE  state file (default " DEFAULT_CONFIG ")\n"
		"  --socket PATH  JSON-RPC control socket (default " DEFAULT_SOCKET ")\n"
		"  --lcores LIST  EAL lcore map, main lcore first, then the workers\n"
		"                 (default: main and one worker on the CPUs this process\n"
		"                 may use; both on one CPU when it may use only one)\n"
		"  EAL args after -- are passed through (default adds --in-memory -m 256\n"
		"  unless a file prefix or memory size is given).\n");
}

/* Main lcore on the first allowed CPU, the worker on the last one. */
static int
default_lcores(char *buf, size_t len)
{
	cpu_set_t set;
	int first = -1, last = -1;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -errno;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			if (first < 0)
				first = c;
			last = c;
		}
	if (first < 0)
		return -ENODEV;
	snprintf(buf, len, "0@%d,1@%d", first, last);
	return 0;
}

/*
 * Scheduler autogroups give each session one CPU weight, split over the
 * CPUs by where its load is: with the worker busy-polling one CPU, the
 * control thread gets close to none of another CPU that a busy poller of
 * another session (a guest, a generator) also runs on, and answers its
 * socket seconds late (measured here: up to 6.8 s). Said once at start.
 */
static void
warn_autogroup(void)
{
	FILE *f = fopen("/proc/sys/kernel/sched_autogroup_enabled", "r");
	int on = 0;

	if (f == NULL)
		return;
	if (fscanf(f, "%d", &on) != 1)
		on = 0;
	fclose(f);
	if (on)
		RTE_LOG(WARNING, USER1,
			"porticod: kernel.sched_autogroup_enabled is 1: the control thread may "
			"wait seconds for its CPU behind busy pollers of other sessions; "
			"scripts/setup.sh turns it off (docs/tuning.md)\n");
}

static bool
has_arg(int argc, char **argv, const char *const *names)
{
	for (int i = 0; i < argc; i++)
		for (const char *const *n = names; *n != NULL; n++)
			if (strncmp(argv[i], *n, strlen(*n)) == 0)
				return true;
	return false;
}

/* Every method porticod serves: methods.c's and capture.c's, NULL-name terminated. */
static struct ctl_method *methods;

static int
methods_init(void)
{
	static const struct ctl_method *const tables[] = {ctl_methods, ctl_capture_methods};
	size_t n = 0;

	for (size_t t = 0; t < RTE_DIM(tables); t++)
		for (const struct ctl_method *m = tables[t]; m->name != NULL; m++)
			n++;
	methods = calloc(n + 1, sizeof(*methods));
	if (methods == NULL)
		return -ENOMEM;
	n = 0;
	for (size_t t = 0; t < RTE_DIM(tables); t++)
		for (const struct ctl_method *m = tables[t]; m->name != NULL; m++)
			methods[n++] = *m;
	return 0;
}

static char *
handle(const char *line, size_t len, void *arg)
{
	return ctl_rpc_handle(methods, arg, line, len);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"lcores", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	static const char *const prefix_args[] = {"--file-prefix", "--in-memory", NULL};
	static const char *const mem_args[] = {"-m", "--socket-mem", NULL};
	const char *config_path = DEFAULT_CONFIG, *socket_path = DEFAULT_SOCKET;
	char lcores[256] = "", err[CTL_ERR_MAX];
	struct ctl_config *cfg = NULL;
	struct ctl_server *srv = NULL;
	struct ctl_daemon daemon = {0};
	char *eal_argv[128];
	int eal_argc = 0, opt, ret, status = EXIT_FAILURE, cap_timeout = -1;
	int n_extra;

	while ((opt = getopt_long(argc, argv, "c:s:l:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'l':
			snprintf(lcores, sizeof(lcores), "%s", optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("porticod %s\n", PORTICO_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_BADCONFIG;
		}
	}
	n_extra = argc - optind;
	if (n_extra > 100) {
		fprintf(stderr, "porticod: too many EAL arguments\n");
		return EXIT_BADCONFIG;
	}

	/* The state file first: nothing starts on a bad one. */
	ret = ctl_config_load(config_path, &cfg, err);
	if (ret == -ENOENT) {
		cfg = ctl_config_new();
		if (cfg == NULL)
			return EXIT_FAILURE;
	} else if (ret != 0) {
		fprintf(stderr, "porticod: %s\n", err); /* err names the file */
		return EXIT_BADCONFIG;
	}

	if (lcores[0] == '\0' && default_lcores(lcores, sizeof(lcores)) != 0) {
		fprintf(stderr, "porticod: cannot read the CPU affinity\n");
		goto out;
	}
	eal_argv[eal_argc++] = argv[0];
	eal_argv[eal_argc++] = "--lcores";
	eal_argv[eal_argc++] = lcores;
	if (!has_arg(n_extra, argv + optind, prefix_args))
		eal_argv[eal_argc++] = "--in-memory";
	if (!has_arg(n_extra, argv + optind, mem_args)) {
		eal_argv[eal_argc++] = "-m";
		/* Preallocated; DPDK grows it on demand. 256 MB starts in ~0.2 s, 512 in ~0.3. */
		eal_argv[eal_argc++] = "256";
	}
	for (int i = optind; i < argc; i++)
		eal_argv[eal_argc++] = argv[i];
	eal_argv[eal_argc] = NULL;

	ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0) {
		fprintf(stderr, "porticod: EAL init failed: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	if (rte_lcore_count() < 2) {
		fprintf(stderr,
			"porticod: --lcores must give a main lcore and at least one worker\n");
		goto eal;
	}
	ret = dp_init(rte_lcore_count() - 1, N_MBUFS);
	if (ret != 0) {
		fprintf(stderr, "porticod: dataplane init failed: %s\n", strerror(-ret));
		goto eal;
	}
	vh_init(dp_synchronize);
	daemon.rt = ctl_rt_new();
	if (daemon.rt == NULL) {
		fprintf(stderr, "porticod: out of memory\n");
		goto dp;
	}
	ret = dp_start();
	if (ret != 0) {
		fprintf(stderr, "porticod: cannot launch workers: %s\n", strerror(-ret));
		goto rt;
	}
	if (ctl_apply(daemon.rt, cfg, err) != 0) {
		fprintf(stderr, "porticod: %s: cannot apply: %s\n", config_path, err);
		status = EXIT_APPLY;
		goto rt;
	}
	cfg = NULL; /* the runtime owns it */
	daemon.state_path = config_path;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN); /* a capture's reader that quits is EPIPE, not death */
	srv = ctl_server_new(socket_path, handle, &daemon, err);
	if (srv == NULL) {
		fprintf(stderr, "porticod: control socket: %s\n", err);
		goto rt;
	}
	daemon.cap = ctl_capture_new(daemon.rt, srv);
	if (daemon.cap == NULL || methods_init() != 0) {
		fprintf(stderr, "porticod: out of memory\n");
		goto srv;
	}
	RTE_LOG(NOTICE, USER1, "porticod %s: %u worker(s), control socket %s, state %s\n",
		PORTICO_VERSION, dp_n_workers(), socket_path, config_path);
	warn_autogroup();
	while (!quit) {
		int timeout = ctl_rt_poll_timeout_ms(daemon.rt);

		/* Running captures are written every CTL_CAP_POLL_MS. */
		if (cap_timeout >= 0 && cap_timeout < timeout)
			timeout = cap_timeout;
		ctl_server_poll(srv, timeout);
		ctl_rt_poll(daemon.rt);
		cap_timeout = ctl_capture_poll(daemon.cap);
		ctl_rates_poll(daemon.rt->index_used, ctl_now_ms() * 1000);
	}
	RTE_LOG(NOTICE, USER1, "porticod: shutting down\n");
	status = EXIT_SUCCESS;
srv:
	ctl_capture_free(daemon.cap); /* before the server: a stream's client is looked up */
	ctl_server_free(srv);
	free(methods);
rt:
	ctl_rt_free(daemon.rt);
dp:
	dp_fini();
eal:
	rte_eal_cleanup();
out:
	ctl_config_free(cfg);
	return status;
}
