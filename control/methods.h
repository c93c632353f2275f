/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porticod's JSON-RPC methods: OBJECT.VERB over the config model, each
 * change validated, applied and persisted as one step.
 */
#ifndef PORTICO_CONTROL_METHODS_H
#define PORTICO_CONTROL_METHODS_H

#include "control/apply.h"
#include "control/rpc.h"

struct ctl_capture;

/* What the methods work on. */
struct ctl_daemon {
	struct ctl_rt *rt; /* the running state */
	const char *state_path; /* where every change is saved; NULL: not saved */
	struct ctl_capture *cap; /* the captures (control/capture.h: capture.* methods) */
};

/* The method table, NULL-name terminated. */
extern const struct ctl_method ctl_methods[];

#endif /* PORTICO_CONTROL_METHODS_H */
