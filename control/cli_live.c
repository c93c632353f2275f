/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CLI's live commands (cli.h): capture start that stays until the
 * capture ends (streaming pcapng to stdout with -w -, or --wait on a file),
 * and top. They use only methods any client may call: capture.start (with
 * the stdout descriptor passed over the unix socket, SCM_RIGHTS),
 * capture.list, capture.stop, port.stats.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "control/cli.h"

#define FOLLOW_PERIOD_MS 200 /* how often a followed capture is asked how it is */
#define TOP_PERIOD_MS 1000 /* top's refresh */
#define TOP_ONCE_WAIT_MS 2500 /* top --once: how long to wait for the first rates */

static volatile sig_atomic_t interrupted; /* SIGINT, SIGTERM or SIGHUP came */

static void
on_signal(int sig)
{
	interrupted = sig;
}

/* Catch the signals that end a live command (no SA_RESTART: sleeps return early). */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Sleep ms, or less when a signal comes. */
static void
nap(int ms)
{
	if (!interrupted)
		poll(NULL, 0, ms);
}

/* Print text from the daemon on stderr without control characters. */
static void
print_clean(FILE *f, const char *prefix, const char *text)
{
	fputs(prefix, f);
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
	fputc('\n', f);
}

/* Call method; on failure say why and return the exit status (*result NULL). */
static int
call(struct ctl_client *c, const char *method, json_t *params, int fd, json_t **result)
{
	json_t *error = NULL;
	const json_t *msg;
	int ret = ctl_client_call_fd(c, method, params, fd, result, &error);

	if (ret < 0) {
		fprintf(stderr, "portico: %s: %s\n", method, c->err);
		return ret == -EPROTO || ret == -EMSGSIZE ? CLI_EXIT_DAEMON : CLI_EXIT_UNREACHABLE;
	}
	if (error != NULL) {
		msg = json_object_get(error, "message");
		print_clean(stderr,
			"portico: ", json_is_string(msg) ? json_string_value(msg) : "error");
		json_decref(error);
		return CLI_EXIT_DAEMON;
	}
	return CLI_EXIT_OK;
}

/* --- options --- */

int
cli_live_option(
	const char *object, int argc, char **argv, int *i, json_t *params, struct cli_live *l)
{
	const char *arg = argv[*i];

	if (object == NULL)
		return 0;
	if (strcmp(object, "top") == 0 && strcmp(arg, "--once") == 0) {
		l->once = true;
		return 1;
	}
	if (strcmp(object, "capture") != 0)
		return 0;
	if (strcmp(arg, "--wait") == 0) {
		l->wait = true;
		return 1;
	}
	if (strcmp(arg, "-w") == 0) {
		if (*i + 1 >= argc) {
			fputs("portico: -w needs a FILE, or - for stdout\n", stderr);
			return -1;
		}
		if (json_object_get(params, "file") != NULL) {
			fputs("portico: 'file' given twice\n", stderr);
			return -1;
		}
		(*i)++;
		if (json_object_set_new(params, "file", json_string(argv[*i])) < 0) {
			fputs("portico: -w: FILE is not valid UTF-8\n", stderr);
			return -1;
		}
		return 1;
	}
	return 0;
}

/* A relative path made absolute against the working directory (NULL when it cannot be). */
static json_t *
absolute(const char *path)
{
	char cwd[PATH_MAX], *abs;
	json_t *v;

	if (path[0] == '/')
		return json_string(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (asprintf(&abs, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) < 0)
		return NULL;
	v = json_string(abs);
	free(abs);
	return v;
}

int
cli_live_prepare(const char *object, const char **verb, const char **name, json_t *params,
	struct cli_live *l)
{
	const json_t *file;
	json_t *v;

	if (strcmp(object, "top") == 0) {
		if (*verb != NULL && strcmp(*verb, "show") != 0) {
			fprintf(stderr,
				"portico: top takes no VERB (portico top [--sort KEY] [--once])\n");
			return -1;
		}
		*verb = "show";
		l->top = l->live = true;
		return 1;
	}
	if (strcmp(object, "capture") != 0 || *verb == NULL)
		return 0;
	if (*name != NULL) {
		const char *key = strcmp(*verb, "start") == 0 ? "port" : "id";

		if (json_object_get(params, key) != NULL) {
			fprintf(stderr, "portico: '%s' given twice\n", key);
			return -1;
		}
		if (strcmp(key, "id") == 0) {
			char *end;
			long long id = strtoll(*name, &end, 10);

			v = *end == '\0' && end != *name ? json_integer(id) : json_string(*name);
		} else {
			v = json_string(*name);
		}
		if (v == NULL || json_object_set_new(params, key, v) < 0) {
			fputs("portico: NAME is not valid UTF-8\n", stderr);
			return -1;
		}
		*name = NULL;
	}
	if (strcmp(*verb, "start") != 0)
		return 0;
	file = json_object_get(params, "file");
	if (json_is_string(file) && strcmp(json_string_value(file), "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			fputs("portico: refusing to write pcapng to a terminal: pipe it (-w - | "
			      "tcpdump -r -) or give -w FILE\n",
				stderr);
			return -1;
		}
		json_object_del(params, "file");
		json_object_set_new(params, "stream", json_true());
		l->stream = true;
	} else if (json_is_string(file)) {
		v = absolute(json_string_value(file));
		if (v == NULL) {
			fprintf(stderr, "portico: -w: cannot make the path absolute: %s\n",
				strerror(errno));
			return -1;
		}
		json_object_set_new(params, "file", v);
	}
	l->live = l->stream || l->wait;
	return l->live ? 1 : 0;
}

/* --- capture start, followed --- */

/* The one-line story of a capture record. */
static void
capture_summary(FILE *f, const json_t *r)
{
	const json_t *drops = json_object_get(r, "drops"), *err = json_object_get(r, "error");
	char line[512];

	snprintf(line, sizeof(line),
		"capture %" JSON_INTEGER_FORMAT " on %s ended (%s%s%s): %" JSON_INTEGER_FORMAT
		" frames written, %" JSON_INTEGER_FORMAT " matched, %" JSON_INTEGER_FORMAT
		" dropped",
		json_integer_value(json_object_get(r, "id")),
		json_string_value(json_object_get(r, "port")) ?: "?",
		json_string_value(json_object_get(r, "end")) ?: "?",
		json_is_string(err) ? ": " : "", json_is_string(err) ? json_string_value(err) : "",
		json_integer_value(json_object_get(r, "written")),
		json_integer_value(json_object_get(r, "matched")),
		json_integer_value(json_object_get(drops, "ring")) +
			json_integer_value(json_object_get(drops, "nombuf")));
	print_clean(f, "portico: ", line);
}

static int
capture_follow(struct ctl_client *c, json_t *params, const struct cli_live *l)
{
	json_t *res = NULL, *rec = NULL, *q;
	const json_t *err;
	json_int_t id;
	bool stop_sent = false;
	int status, flags;

	catch_signals();
	status = call(c, "capture.start", params, l->stream ? STDOUT_FILENO : -1, &res);
	if (status != CLI_EXIT_OK)
		return status;
	id = json_integer_value(json_object_get(res, "id"));
	if (!l->json) {
		char line[512];
		const char *filter = json_string_value(json_object_get(res, "filter"));

		snprintf(line, sizeof(line), "capture %" JSON_INTEGER_FORMAT " on %s (%s%s%s) to %s: Ctrl-C stops it",
			id, json_string_value(json_object_get(res, "port")) ?: "?",
			json_string_value(json_object_get(res, "direction")) ?: "?",
			filter != NULL && filter[0] != '\0' ? ", filter " : "", filter ?: "",
			l->stream ? "stdout" : json_string_value(json_object_get(res, "file")) ?: "?");
		print_clean(stderr, "portico: ", line);
	}
	json_decref(res);
	q = json_pack("{s:I}", "id", id);
	for (;;) {
		json_t *r = NULL;
		const char *state;

		if (interrupted && !stop_sent) {
			stop_sent = true;
			status = call(c, "capture.stop", q, -1, &r);
			if (status != CLI_EXIT_OK)
				break;
		} else {
			nap(FOLLOW_PERIOD_MS);
			if (interrupted && !stop_sent)
				continue;
			status = call(c, "capture.list", q, -1, &r);
			if (status != CLI_EXIT_OK)
				break;
			if (json_is_array(r)) {
				json_t *one = json_incref(json_array_get(r, 0));

				json_decref(r);
				r = one;
			}
		}
		json_decref(rec);
		rec = r;
		state = json_string_value(json_object_get(rec, "state"));
		if (state == NULL) {
			fprintf(stderr, "portico: capture %" JSON_INTEGER_FORMAT " vanished\n", id);
			status = CLI_EXIT_DAEMON;
			break;
		}
		if (strcmp(state, "ended") == 0)
			break;
	}
	json_decref(q);
	/* porticod made our stdout non-blocking: give it back as it was. */
	if (l->stream && (flags = fcntl(STDOUT_FILENO, F_GETFL)) >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, flags & ~O_NONBLOCK);
	if (status == CLI_EXIT_OK && rec != NULL) {
		capture_summary(stderr, rec);
		err = json_object_get(rec, "error");
		/* A reader that went away (EPIPE) is how a stream ends, not an error. */
		if (json_is_string(err) &&
			!(l->stream && strcmp(json_string_value(err), "Broken pipe") == 0))
			status = CLI_EXIT_DAEMON;
		if (l->json && !l->stream) {
			char *text = json_dumps(rec, JSON_INDENT(2));

			if (text != NULL)
				printf("%s\n", text);
			free(text);
		}
	}
	json_decref(rec);
	return status;
}

/* --- top --- */

/* One port's line. */
struct top_row {
	char name[64];
	char kind[8];
	bool have; /* rates known (two readings) */
	uint64_t rx_pps, rx_bps, tx_pps, tx_bps, drops_ps;
};

enum top_sort {
	TOP_RX_PPS,
	TOP_TX_PPS,
	TOP_RX_BPS,
	TOP_TX_BPS,
	TOP_DROPS,
	TOP_NAME
};
static const char *const sort_names[] = {
	[TOP_RX_PPS] = "rx_pps",
	[TOP_TX_PPS] = "tx_pps",
	[TOP_RX_BPS] = "rx_bps",
	[TOP_TX_BPS] = "tx_bps",
	[TOP_DROPS] = "drops",
	[TOP_NAME] = "name",
};
static enum top_sort sort_by;

static uint64_t
row_key(const struct top_row *r)
{
	switch (sort_by) {
	case TOP_RX_PPS:
		return r->rx_pps;
	case TOP_TX_PPS:
		return r->tx_pps;
	case TOP_RX_BPS:
		return r->rx_bps;
	case TOP_TX_BPS:
		return r->tx_bps;
	case TOP_DROPS:
		return r->drops_ps;
	default:
		return 0;
	}
}

/* Busiest first (names break ties), or by name. */
static int
row_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;
	uint64_t kx = row_key(x), ky = row_key(y);

	if (kx != ky)
		return kx > ky ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* 1234567 as "1.23M" (powers of 1000); below 1000 as is. */
static void
human(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTP";
	double d = (double)v;
	int u = -1;

	if (v < 1000) {
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return;
	}
	while (d >= 1000 && u < (int)sizeof(units) - 2) {
		d /= 1000;
		u++;
	}
	snprintf(buf, len, d >= 99.95 ? "%.0f%c" : d >= 9.995 ? "%.1f%c" : "%.2f%c", d, units[u]);
}

static uint64_t
rate_of(const json_t *rates, const char *key)
{
	const json_t *v = json_object_get(rates, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
							       : 0;
}

/* port.stats as rows (malloc'd); -1 on a malformed reply. */
static int
top_rows(const json_t *res, struct top_row **out, size_t *n)
{
	struct top_row *rows;
	size_t i;

	if (!json_is_array(res))
		return -1;
	rows = calloc(json_array_size(res) + 1, sizeof(*rows));
	if (rows == NULL)
		return -1;
	for (i = 0; i < json_array_size(res); i++) {
		const json_t *p = json_array_get(res, i), *rates = json_object_get(p, "rates");
		struct top_row *r = &rows[i];

		snprintf(r->name, sizeof(r->name), "%s",
			json_string_value(json_object_get(p, "name")) ?: "?");
		for (char *c = r->name; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		snprintf(r->kind, sizeof(r->kind), "%s",
			json_string_value(json_object_get(p, "kind")) ?: "");
		r->have = json_is_object(rates);
		r->rx_pps = rate_of(rates, "rx_pps");
		r->rx_bps = rate_of(rates, "rx_bps");
		r->tx_pps = rate_of(rates, "tx_pps");
		r->tx_bps = rate_of(rates, "tx_bps");
		r->drops_ps = rate_of(rates, "drops_ps");
	}
	*out = rows;
	*n = i;
	return 0;
}

/*
 * The table: at most max_rows ports (0: all), each line ended by eol
 * (ANSI: clear to the end of the line too).
 */
static void
top_print(struct top_row *rows, size_t n, size_t max_rows, const char *eol)
{
	struct top_row total = {.name = "total", .have = true};
	char c[5][16];
	int w = 4;
	size_t i;

	qsort(rows, n, sizeof(*rows), row_cmp);
	for (i = 0; i < n; i++) {
		int len = (int)strlen(rows[i].name);

		w = len > w ? len : w;
		total.rx_pps += rows[i].rx_pps;
		total.rx_bps += rows[i].rx_bps;
		total.tx_pps += rows[i].tx_pps;
		total.tx_bps += rows[i].tx_bps;
		total.drops_ps += rows[i].drops_ps;
	}
	printf("%-*s  %-6s  %8s  %8s  %8s  %8s  %8s%s", w, "PORT", "KIND", "RX_PPS", "RX_BPS",
		"TX_PPS", "TX_BPS", "DROPS/S", eol);
	for (i = 0; i <= n; i++) {
		const struct top_row *r = i < n ? &rows[i] : &total;

		if (i < n && max_rows != 0 && i >= max_rows) {
			printf("... %zu more%s", n - i, eol);
			i = n - 1;
			continue;
		}
		if (!r->have) {
			printf("%-*s  %-6s  %8s  %8s  %8s  %8s  %8s%s", w, r->name, r->kind, "-",
				"-", "-", "-", "-", eol);
			continue;
		}
		human(r->rx_pps, c[0], sizeof(c[0]));
		human(r->rx_bps, c[1], sizeof(c[1]));
		human(r->tx_pps, c[2], sizeof(c[2]));
		human(r->tx_bps, c[3], sizeof(c[3]));
		human(r->drops_ps, c[4], sizeof(c[4]));
		printf("%-*s  %-6s  %8s  %8s  %8s  %8s  %8s%s", w, r->name, r->kind, c[0], c[1],
			c[2], c[3], c[4], eol);
	}
}

static int
top(struct ctl_client *c, json_t *params, const struct cli_live *l)
{
	bool ansi = !l->once && isatty(STDOUT_FILENO);
	const char *key;
	json_t *v, *empty = json_object();
	uint64_t waited = 0;
	int status = CLI_EXIT_OK;

	sort_by = TOP_RX_PPS;
	json_object_foreach (params, key, v) {
		unsigned s;

		if (strcmp(key, "sort") != 0) {
			fprintf(stderr, "portico: top: unknown option --%s (--sort KEY, --once)\n",
				key);
			json_decref(empty);
			return CLI_EXIT_USAGE;
		}
		for (s = 0; s <= TOP_NAME; s++)
			if (json_is_string(v) && strcmp(json_string_value(v), sort_names[s]) == 0)
				break;
		if (s > TOP_NAME) {
			fputs("portico: top: --sort takes rx_pps, tx_pps, rx_bps, tx_bps, drops or "
			      "name\n",
				stderr);
			json_decref(empty);
			return CLI_EXIT_USAGE;
		}
		sort_by = (enum top_sort)s;
	}
	catch_signals();
	if (ansi)
		fputs("\033[?1049h\033[?25l", stdout); /* the alternate screen, no cursor */
	while (!interrupted) {
		struct top_row *rows = NULL;
		json_t *res = NULL;
		bool any = false;
		size_t n, i;

		status = call(c, "port.stats", empty, -1, &res);
		if (status != CLI_EXIT_OK)
			break;
		if (top_rows(res, &rows, &n) != 0) {
			fputs("portico: top: port.stats answered something else than a list\n",
				stderr);
			json_decref(res);
			status = CLI_EXIT_DAEMON;
			break;
		}
		for (i = 0; i < n; i++)
			any |= rows[i].have;
		if (l->once && !any && n > 0 && waited < TOP_ONCE_WAIT_MS) {
			/* porticod reads the counters once a second: the first rates come soon. */
			free(rows);
			json_decref(res);
			nap(250);
			waited += 250;
			continue;
		}
		if (l->once && l->json) {
			char *text = json_dumps(res, JSON_INDENT(2));

			if (text != NULL)
				printf("%s\n", text);
			free(text);
		} else if (ansi) {
			struct winsize ws = {0};
			size_t max = 0;
			char when[16];
			time_t t = time(NULL);
			struct tm tm;

			if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 4)
				max = ws.ws_row - 4u;
			localtime_r(&t, &tm);
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
			printf("\033[H\033[1mportico top\033[0m  %s  %zu ports, sorted by %s, "
			       "per second (x1000: K M G)  Ctrl-C quits\033[K\n\033[K\n",
				when, n, sort_names[sort_by]);
			top_print(rows, n, max, "\033[K\n");
			fputs("\033[J", stdout);
		} else {
			top_print(rows, n, 0, "\n");
		}
		fflush(stdout);
		free(rows);
		json_decref(res);
		if (l->once)
			break;
		if (!ansi)
			putchar('\n');
		nap(TOP_PERIOD_MS);
	}
	if (ansi) {
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
	}
	json_decref(empty);
	return status;
}

int
cli_live_run(struct ctl_client *c, const char *object, const char *verb, json_t *params,
	const struct cli_live *l)
{
	if (l->top)
		return top(c, params, l);
	return capture_follow(c, params, l);
}
