/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L2 security: compiling storm control limits (see security.h).
 */
#include <errno.h>
#include <string.h>

#include "security/security.h"

#define STORM_WINDOW_DIV 10 /* the bucket holds 1/10 s of frames */

int
sec_storm_cfg_init(struct sec_storm_cfg *cfg, uint64_t pps, uint64_t hz)
{
	uint64_t frames;

	memset(cfg, 0, sizeof(*cfg));
	if (hz == 0 || pps > hz)
		return -EINVAL;
	if (pps == 0)
		return 0;
	cfg->cost = hz / pps;
	frames = pps / STORM_WINDOW_DIV;
	if (frames < 1)
		frames = 1;
	cfg->depth = cfg->cost * frames;
	return 0;
}
