/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The portico CLI, in two parts. cli.c: one generic call, OBJECT VERB ->
 * method OBJECT.VERB, result printed. cli_live.c: the commands that stay
 * connected while something runs:
 *
 *   portico capture start PORT ... -w -      pcapng on stdout until the capture ends
 *   portico capture start PORT ... --wait    (a file) until the capture ends
 *   portico top [--sort KEY] [--once]        per-port rates, refreshed every second
 *
 * and the capture commands' NAME (the port, or a capture's id).
 */
#ifndef PORTICO_CONTROL_CLI_H
#define PORTICO_CONTROL_CLI_H

#include <stdbool.h>

#include <jansson.h>

#include "control/rpc_client.h"

/* What the process exits with. */
enum cli_exit {
	CLI_EXIT_OK = 0, /* the call succeeded */
	CLI_EXIT_DAEMON = 1, /* porticod returned an error, or an invalid reply */
	CLI_EXIT_USAGE = 2, /* bad command line */
	CLI_EXIT_UNREACHABLE = 3, /* porticod cannot be reached */
};

/* A live command's options (the flags parse_args() cannot know). */
struct cli_live {
	bool wait; /* capture start --wait: stay until the capture ends */
	bool once; /* top --once: one table, no terminal control */
	bool stream; /* capture start -w -: pass stdout, stay until the capture ends */
	bool top; /* the command is `portico top` */
	bool json; /* --json */
	bool live; /* cli_live_prepare() said: cli_live_run() runs the command */
};

/*
 * An option of a live command at argv[*i] (after OBJECT): --wait and -w FILE
 * for capture, --once for top. Returns 1 when it took it (*i moved past its
 * value), 0 when it is not one, -1 on a usage error (said on stderr).
 */
int cli_live_option(
	const char *object, int argc, char **argv, int *i, json_t *params, struct cli_live *l);

/*
 * After parsing: capture's NAME becomes "port" (start) or "id" (stop, list);
 * -w - becomes "stream" (refused on a terminal); a relative file becomes
 * absolute; top needs no VERB (*verb set to "show"). Returns 1 when the
 * command is live (l->live: cli_live_run() runs it), 0 when it is an
 * ordinary call, -1 on a usage error (said on stderr).
 */
int cli_live_prepare(const char *object, const char **verb, const char **name, json_t *params,
	struct cli_live *l);

/*
 * Run a live command on a connected client (porticod's unix socket for a
 * stream). Returns an enum cli_exit. Ctrl-C ends it cleanly (a capture is
 * stopped first, a full-screen top restores the terminal).
 */
int cli_live_run(struct ctl_client *c, const char *object, const char *verb, json_t *params,
	const struct cli_live *l);

#endif /* PORTICO_CONTROL_CLI_H */
