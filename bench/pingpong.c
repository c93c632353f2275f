/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pingpong: how far apart two CPUs are, by bouncing one cache line between
 * them. Prints one JSON object: the mean one-way transfer time in ns.
 *
 *   cc -O2 -pthread -o pingpong pingpong.c && ./pingpong 0 1 [round_trips]
 *
 * bench/run compiles and runs it at the start of every round (~50 ms): two
 * hyperthreads of one core answer in ~10-30 ns, two cores sharing a cache
 * in ~30-80 ns, cores further apart (another CCX, another socket, or a
 * hypervisor that moved the vCPUs) take longer. Absolute Mpps follow that
 * placement, which is why the benchmark compares switches only as ratios
 * within a round.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static struct {
	_Alignas(64) atomic_long turn;
} line;

static long rounds = 200000;

static int
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *
pong(void *arg)
{
	if (pin(*(int *)arg) != 0)
		return (void *)1;
	for (long i = 0; i < rounds; i++) {
		while (atomic_load_explicit(&line.turn, memory_order_acquire) != 2 * i + 1)
			;
		atomic_store_explicit(&line.turn, 2 * i + 2, memory_order_release);
	}
	return NULL;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	int a = argc > 1 ? atoi(argv[1]) : 0, b = argc > 2 ? atoi(argv[2]) : 1;
	pthread_t t;
	void *ret;
	double t0, t1;

	if (argc > 3)
		rounds = atol(argv[3]);
	if (pin(a) != 0) {
		fprintf(stderr, "pingpong: cannot run on CPU %d\n", a);
		return 1;
	}
	if (pthread_create(&t, NULL, pong, &b) != 0)
		return 1;
	/* Warm up: a few thousand round trips before the clock starts. */
	t0 = 0;
	for (long i = 0; i < rounds; i++) {
		if (i == rounds / 10)
			t0 = now_ns();
		atomic_store_explicit(&line.turn, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(&line.turn, memory_order_acquire) != 2 * i + 2)
			;
	}
	t1 = now_ns();
	pthread_join(t, &ret);
	if (ret != NULL) {
		fprintf(stderr, "pingpong: cannot run on CPU %d\n", b);
		return 1;
	}
	printf("{\"cpus\": [%d, %d], \"round_trips\": %ld, \"one_way_ns\": %.1f}\n", a, b,
		rounds - rounds / 10, (t1 - t0) / (double)(rounds - rounds / 10) / 2);
	return 0;
}
