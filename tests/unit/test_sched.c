/* Host unit tests for the round-robin scheduler (core/sched.c). vCPUs are
 * zeroed struct vcpu objects (core/vm.h with the host stand-in arch
 * structs); time is a plain counter handed to sched_next(). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/sched.h"

#define SLICE 10
#define NV 16

static struct vcpu v[NV];

static int setup(void **state)
{
	(void)state;
	memset(v, 0, sizeof(v));
	for (unsigned i = 0; i < NV; i++)
		v[i].id = i;
	sched_init(SLICE);
	return 0;
}

/* Walk the run queue: every entry RUNNABLE, no cycles, tail is the last
 * entry, the current vCPU is not queued. Copies the order to out. */
static unsigned queue(struct vcpu **out, unsigned max)
{
	unsigned n = 0;
	struct vcpu *last = NULL;

	for (struct vcpu *p = sched.head; p; p = p->rq_next) {
		assert_true(n < NV);            /* no cycle */
		assert_int_equal(p->state, VCPU_RUNNABLE);
		assert_ptr_not_equal(p, sched.current);
		if (out && n < max)
			out[n] = p;
		n++;
		last = p;
	}
	assert_ptr_equal(sched.tail, last);
	if (!sched.head)
		assert_null(sched.tail);
	else
		assert_null(sched.tail->rq_next);
	return n;
}

/* Assert the queue holds exactly the given vCPU ids, in order. */
static void expect_queue(unsigned n, const unsigned *ids)
{
	struct vcpu *q[NV];

	assert_int_equal(queue(q, NV), n);
	for (unsigned i = 0; i < n; i++)
		if (q[i] != &v[ids[i]])
			fail_msg("queue[%u] is vcpu %u, want %u", i, q[i]->id, ids[i]);
}

#define EXPECT_QUEUE(...) do { \
	const unsigned ids_[] = { __VA_ARGS__ }; \
	expect_queue(ARRAY_SIZE(ids_), ids_); \
} while (0)
#define EXPECT_EMPTY() expect_queue(0, NULL)

static void expect_next(uint64_t now, unsigned id)
{
	struct vcpu *got = sched_next(now);

	if (got != &v[id])
		fail_msg("t=%llu: picked %d, want %u", (unsigned long long)now,
			 got ? (int)got->id : -1, id);
	assert_ptr_equal(sched.current, &v[id]);
	assert_int_equal(v[id].state, VCPU_RUNNING);
	queue(NULL, 0);
}

static void block(unsigned id, uint64_t now)
{
	assert_ptr_equal(sched.current, &v[id]);
	sched_block_current(now);
	assert_int_equal(v[id].state, VCPU_BLOCKED);
	assert_null(sched.current);
}

/* A vCPU halted long ago (as if it blocked a slice before time 0): it wakes
 * with a fresh slice at the head. */
static void asleep(unsigned id)
{
	v[id].state = VCPU_BLOCKED;
	v[id].blocked_at = (uint64_t)0 - SLICE;
	v[id].slice_left = 0;
}

/* ------------------------------------------------------------ basics */

static void test_init(void **state)
{
	(void)state;
	sched.switches = 99;
	sched_init(0);                  /* 0 is rounded up to one tick */
	assert_int_equal(sched.slice, 1);
	assert_int_equal(sched.switches, 0);
	assert_null(sched.head);
	assert_null(sched.tail);
	assert_null(sched.current);
	sched_init(12345);
	assert_int_equal(sched.slice, 12345);
}

static void test_nothing_runnable(void **state)
{
	(void)state;
	assert_null(sched_next(0));
	assert_null(sched_next(1000));
	assert_int_equal(sched.switches, 0);
	/* the only vCPU blocks: nothing left */
	sched_enqueue(&v[0], false);
	expect_next(0, 0);
	block(0, 1);
	assert_null(sched_next(1));
	assert_null(sched_next(100));
	assert_null(sched.current);
	assert_int_equal(sched.switches, 1);
}

static void test_enqueue_order(void **state)
{
	(void)state;
	sched_enqueue(&v[1], false);
	assert_int_equal(v[1].state, VCPU_RUNNABLE);
	sched_enqueue(&v[2], false);
	sched_enqueue(&v[0], true);
	sched_enqueue(&v[3], false);
	EXPECT_QUEUE(0, 1, 2, 3);
	/* a stale link in a re-used vCPU is ignored */
	v[4].rq_next = &v[1];
	sched_enqueue(&v[4], false);
	EXPECT_QUEUE(0, 1, 2, 3, 4);
}

/* ------------------------------------------------------------ round robin */

static void test_round_robin(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3; i++)
		sched_enqueue(&v[i], false);
	expect_next(0, 0);
	EXPECT_QUEUE(1, 2);
	expect_next(10, 1);             /* slice expired: 0 to the tail */
	EXPECT_QUEUE(2, 0);
	assert_int_equal(v[0].state, VCPU_RUNNABLE);
	expect_next(20, 2);
	EXPECT_QUEUE(0, 1);
	expect_next(30, 0);
	expect_next(40, 1);
	expect_next(50, 2);
	assert_int_equal(sched.switches, 6);
	/* late ticks: the new slice starts at the pick, not at the old end */
	expect_next(75, 0);
	assert_int_equal(sched.slice_end, 85);
	expect_next(84, 0);
	expect_next(85, 1);
	assert_int_equal(sched.switches, 8);
}

static void test_keeps_running_in_slice(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	expect_next(100, 0);
	assert_int_equal(sched.slice_end, 110);
	for (uint64_t t = 100; t < 110; t++)
		expect_next(t, 0);
	EXPECT_QUEUE(1);
	assert_int_equal(sched.switches, 1);
	expect_next(110, 1);
	assert_int_equal(sched.switches, 2);
}

static void test_lone_vcpu(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	expect_next(0, 0);
	assert_int_equal(sched.switches, 1);
	expect_next(10, 0);             /* expired, nobody else: new slice */
	assert_int_equal(sched.slice_end, 20);
	expect_next(15, 0);
	assert_int_equal(sched.slice_end, 20);
	expect_next(33, 0);
	assert_int_equal(sched.slice_end, 43);
	assert_int_equal(sched.switches, 1);  /* never switched */
	EXPECT_EMPTY();
	/* a new arrival runs when the slice ends */
	sched_enqueue(&v[1], false);
	expect_next(42, 0);
	expect_next(43, 1);
	EXPECT_QUEUE(0);
	assert_int_equal(sched.switches, 2);
}

/* ------------------------------------------------------------ wake-up */

static void test_wake_preempts(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	asleep(2);
	expect_next(0, 0);              /* slice [0, 10) */
	sched_wake(&v[2], 3);
	assert_int_equal(v[2].state, VCPU_RUNNABLE);
	assert_true(sched.need_resched);
	EXPECT_QUEUE(2, 1);
	expect_next(3, 2);              /* preempts at once */
	assert_false(sched.need_resched);
	assert_int_equal(sched.slice_end, 13);
	EXPECT_QUEUE(0, 1);             /* 0 resumes second, not last */
	assert_int_equal(v[0].slice_left, 7);
	assert_int_equal(v[0].state, VCPU_RUNNABLE);
	/* the woken vCPU halts again: 0 gets the rest of its slice back */
	block(2, 5);
	expect_next(5, 0);
	assert_int_equal(sched.slice_end, 12);
	assert_int_equal(v[0].slice_left, 0);
	expect_next(11, 0);
	expect_next(12, 1);
	EXPECT_QUEUE(0);
	expect_next(22, 0);
	assert_int_equal(sched.slice_end, 32);   /* full slice again */
	assert_int_equal(sched.switches, 5);
}

/* 0 and 1 queued, 0 runs from 0; halted 2 wakes and preempts it at 4. */
static void wake_2_at_4(void)
{
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	asleep(2);
	expect_next(0, 0);
	sched_wake(&v[2], 4);
	expect_next(4, 2);              /* 0 keeps 6 ticks */
	EXPECT_QUEUE(0, 1);
	assert_int_equal(v[0].slice_left, 6);
}

static void test_wake_then_slice_expiry(void **state)
{
	(void)state;
	wake_2_at_4();
	expect_next(13, 2);
	expect_next(14, 0);             /* 2's slice over: 0 resumes first */
	assert_int_equal(sched.slice_end, 20);
	EXPECT_QUEUE(1, 2);
	expect_next(20, 1);
	expect_next(30, 2);
	expect_next(40, 0);
}

static void test_wake_after_slice_end(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	asleep(2);
	expect_next(0, 0);
	sched_wake(&v[2], 1);
	/* by the time the scheduler runs, 0's slice is over anyway */
	expect_next(10, 2);
	EXPECT_QUEUE(1, 0);             /* 0 goes to the tail */
	assert_int_equal(v[0].slice_left, 0);
	expect_next(20, 1);
	expect_next(30, 0);
	assert_int_equal(sched.slice_end, 40);
}

static void test_wake_when_idle(void **state)
{
	(void)state;
	asleep(0);
	asleep(1);
	assert_null(sched_next(0));
	sched_wake(&v[1], 0);
	assert_false(sched.need_resched);      /* nobody to preempt */
	expect_next(5, 1);
	assert_int_equal(sched.slice_end, 15);
	sched_wake(&v[0], 6);
	expect_next(6, 0);
	EXPECT_QUEUE(1);
	assert_int_equal(v[1].slice_left, 9);
}

/* A queued vCPU whose own timer fired preempts at once, for a short boost
 * only (it had used up its slice); the preempted one keeps its rest. */
static void test_promote_boost(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	sched_enqueue(&v[2], false);
	expect_next(0, 0);
	expect_next(10, 1);             /* 0 used its slice: to the tail */
	EXPECT_QUEUE(2, 0);
	sched_promote(&v[0]);
	assert_true(sched.need_resched);
	EXPECT_QUEUE(0, 2);
	expect_next(12, 0);
	assert_int_equal(sched.slice_end, 12 + SLICE / SCHED_BOOST_DIV);
	EXPECT_QUEUE(1, 2);             /* 1 resumes second with 8 ticks */
	assert_int_equal(v[1].slice_left, 8);
	expect_next(13, 1);             /* boost over: 0 to the tail */
	assert_int_equal(sched.slice_end, 21);
	EXPECT_QUEUE(2, 0);
	expect_next(21, 2);
	expect_next(31, 0);
	/* its normal turn: a slice less the boost it was lent */
	assert_int_equal(sched.slice_end, 41 - SLICE / SCHED_BOOST_DIV);
	assert_int_equal(v[0].slice_debt, 0);
}

/* Boosts are lent: paid back from the next turn; and a vCPU owing a
 * whole slice is not promoted again until its own turn (one that cannot
 * take its interrupt must not be boosted again and again while its peer
 * never runs). */
static void test_promote_debt_is_repaid(void **state)
{
	(void)state;
	assert_int_equal(SLICE / SCHED_BOOST_DIV, 1);   /* the times below assume it */
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	expect_next(0, 0);
	expect_next(10, 1);
	for (uint64_t i = 0; i < SLICE; i++) {  /* one-tick boosts while 1 runs */
		sched_promote(&v[0]);
		expect_next(11 + 2 * i, 0);
		expect_next(12 + 2 * i, 1);
	}
	assert_int_equal(v[0].slice_debt, SLICE);
	sched.need_resched = false;
	sched_promote(&v[0]);                   /* owes a slice: not again */
	assert_false(sched.need_resched);
	expect_next(40, 0);                     /* 1's slice (10 ticks) is over */
	assert_int_equal(sched.slice_end, 41);  /* a turn never shorter than a boost */
	assert_int_equal(v[0].slice_debt, 1);
}

/* Promoted after a wake-up preempted it: it keeps the rest of its slice. */
static void test_promote_keeps_slice_left(void **state)
{
	(void)state;
	wake_2_at_4();
	sched_promote(&v[1]);
	EXPECT_QUEUE(1, 0);
	expect_next(5, 1);
	assert_int_equal(sched.slice_end, 5 + SLICE / SCHED_BOOST_DIV);
	EXPECT_QUEUE(2, 0);             /* 2 was preempted in turn: second */
	assert_int_equal(v[2].slice_left, SLICE - 1);
}

static void test_promote_ignores_others(void **state)
{
	(void)state;
	v[0].state = VCPU_BLOCKED;
	v[1].state = VCPU_STOPPED;
	sched_promote(&v[0]);
	sched_promote(&v[1]);
	assert_int_equal(v[0].state, VCPU_BLOCKED);
	assert_int_equal(v[1].state, VCPU_STOPPED);
	EXPECT_EMPTY();
	sched_enqueue(&v[2], false);
	sched_promote(&v[2]);           /* nothing running: nobody to preempt */
	assert_false(sched.need_resched);
	expect_next(3, 2);
	assert_int_equal(sched.slice_end, 3 + SLICE / SCHED_BOOST_DIV);
	sched_promote(&v[2]);           /* RUNNING: not queued */
	assert_false(sched.need_resched);
	EXPECT_EMPTY();
}

static void test_wake_ignores_non_blocked(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	expect_next(0, 0);
	sched_wake(&v[1], 1);              /* RUNNABLE: already queued */
	sched_wake(&v[0], 1);              /* RUNNING */
	v[3].state = VCPU_STOPPED;
	sched_wake(&v[3], 1);
	v[4].state = VCPU_CREATED;
	sched_wake(&v[4], 1);
	assert_false(sched.need_resched);
	EXPECT_QUEUE(1);
	assert_int_equal(v[3].state, VCPU_STOPPED);
	assert_int_equal(v[4].state, VCPU_CREATED);
	expect_next(5, 0);
}

/* ------------------------------------------------------------ yield, block */

static void test_yield(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3; i++)
		sched_enqueue(&v[i], false);
	expect_next(0, 0);
	sched_yield_current();
	assert_null(sched.current);
	assert_int_equal(v[0].state, VCPU_RUNNABLE);
	EXPECT_QUEUE(1, 2, 0);
	expect_next(4, 1);
	assert_int_equal(sched.slice_end, 14);  /* a full slice for 1 */
	expect_next(14, 2);
	expect_next(24, 0);
	assert_int_equal(v[0].slice_left, 0);
	assert_int_equal(sched.slice_end, 34);

	/* a preempted vCPU resumes with its leftover, then yields */
	asleep(5);
	sched_wake(&v[5], 26);
	expect_next(26, 5);
	assert_int_equal(v[0].slice_left, 8);
	block(5, 27);
	expect_next(27, 0);
	assert_int_equal(sched.slice_end, 35);
	sched_yield_current();
	assert_int_equal(v[0].slice_left, 0);
	EXPECT_QUEUE(1, 2, 0);
	/* yield with nothing running is harmless */
	sched_yield_current();
	EXPECT_QUEUE(1, 2, 0);
}

static void test_yield_lone(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	expect_next(0, 0);
	sched_yield_current();
	EXPECT_QUEUE(0);
	expect_next(3, 0);
	assert_int_equal(sched.slice_end, 13);
}

static void test_block(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3; i++)
		sched_enqueue(&v[i], false);
	expect_next(0, 0);
	block(0, 2);
	EXPECT_QUEUE(1, 2);
	expect_next(2, 1);
	assert_int_equal(sched.slice_end, 12);
	expect_next(12, 2);
	expect_next(22, 1);             /* 0 is out of the rotation */
	block(1, 23);
	expect_next(23, 2);
	expect_next(33, 2);             /* alone now */
	EXPECT_EMPTY();
	/* blocking with nothing current is harmless */
	block(2, 40);
	sched_block_current(40);
	assert_null(sched_next(40));
	/* and all come back in wake order, latest first */
	sched_wake(&v[1], 40);
	sched_wake(&v[0], 40);
	EXPECT_QUEUE(0, 1);
	expect_next(41, 0);
	expect_next(51, 1);
}

/* ------------------------------------------------------------ halts */

/* A halt keeps the rest of the slice: the vCPU wakes with it (not a fresh
 * one), preempts, and goes to the tail when it is used up. */
static void test_halt_keeps_slice(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	expect_next(0, 0);              /* [0, 10) */
	block(0, 3);
	assert_int_equal(v[0].slice_left, 7);
	expect_next(3, 1);              /* [3, 13) */
	sched_wake(&v[0], 4);
	assert_true(sched.need_resched);
	expect_next(4, 0);
	assert_int_equal(sched.slice_end, 11);  /* 4 + the 7 it kept */
	assert_int_equal(v[1].slice_left, 9);
	EXPECT_QUEUE(1);
	block(0, 6);
	assert_int_equal(v[0].slice_left, 5);
	expect_next(6, 1);
	assert_int_equal(sched.slice_end, 15);
	sched_wake(&v[0], 7);
	expect_next(7, 0);
	assert_int_equal(sched.slice_end, 12);
	assert_int_equal(v[1].slice_left, 8);
	/* its slice is over: 1 resumes with the rest of its own */
	expect_next(12, 1);
	assert_int_equal(sched.slice_end, 20);
	EXPECT_QUEUE(0);
	expect_next(20, 0);
	assert_int_equal(sched.slice_end, 30);  /* a new round: full slice */
}

/* A short halt after the slice is used up: no preemption, to the tail. */
static void test_halt_at_slice_end_queues_behind(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	sched_enqueue(&v[2], false);
	expect_next(0, 0);
	block(0, 10);                   /* halts exactly when the slice ends */
	assert_int_equal(v[0].slice_left, 0);
	expect_next(10, 1);
	sched_wake(&v[0], 12);          /* takes its interrupt on a lent boost */
	assert_true(sched.need_resched);
	expect_next(12, 0);
	assert_int_equal(sched.slice_end, 12 + SLICE / SCHED_BOOST_DIV);
	assert_int_equal(v[0].slice_debt, SLICE / SCHED_BOOST_DIV);
	expect_next(13, 1);             /* 1 resumes with the rest of its slice */
	expect_next(21, 2);
	expect_next(31, 0);             /* its turn, shorter by the boost */
	assert_int_equal(sched.slice_end, 41 - SLICE / SCHED_BOOST_DIV);
}

/* Asleep for a slice or longer: a fresh slice, at once (wake latency). */
static void test_long_sleep_gets_fresh_slice(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	expect_next(0, 0);
	block(0, 9);                    /* 1 tick left */
	expect_next(9, 1);
	sched_wake(&v[0], 19);          /* slept exactly one slice */
	assert_true(sched.need_resched);
	expect_next(19, 0);
	assert_int_equal(sched.slice_end, 29);
	EXPECT_QUEUE(1);
	assert_int_equal(v[1].slice_left, 0);    /* its slice ended at 19 too */
	/* slept just under a slice: only the tick it had left */
	block(0, 20);
	assert_int_equal(v[0].slice_left, 9);
	expect_next(20, 1);
	block(1, 21);
	assert_null(sched_next(21));
	sched_wake(&v[0], 29);
	expect_next(29, 0);
	assert_int_equal(sched.slice_end, 38);
}

/*
 * The chaos-halts scenario in miniature (docs/robustness.md, bug 2): vCPU 0
 * computes for `work` ticks, then halts for `pause` ticks, over and over;
 * vCPU 1 never halts. Driven like core/main.c: wake the halted vCPU when its
 * timer is due, pick, run to the earliest of the slice end, its wake-up and
 * (for 0) the end of its work. Each must get about half the CPU: before the
 * fix the halting vCPU got a fresh slice at every wake-up and took
 * work / (work + pause) of it.
 */
static void run_halter(uint64_t slice, uint64_t work, uint64_t pause, double *share0,
		       double *share1)
{
	uint64_t now = 0, wake_at = UINT64_MAX, left = work, ran[2] = { 0, 0 };
	const uint64_t end = slice * 2000;

	memset(v, 0, sizeof(v));
	v[0].id = 0;
	v[1].id = 1;
	sched_init(slice);
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	while (now < end) {
		struct vcpu *cur;
		uint64_t until;

		if (v[0].state == VCPU_BLOCKED && now >= wake_at) {
			wake_at = UINT64_MAX;
			sched_wake(&v[0], now);
		}
		cur = sched_next(now);
		if (!cur) {
			now = wake_at;
			continue;
		}
		until = sched.slice_end < wake_at ? sched.slice_end : wake_at;
		if (cur == &v[0] && now + left < until)
			until = now + left;
		assert_true(until > now);
		ran[cur->id] += until - now;
		if (cur == &v[0]) {
			left -= until - now;
			if (!left) {
				left = work;
				wake_at = until + pause;
				sched_block_current(until);
			}
		}
		now = until;
	}
	*share0 = (double)ran[0] / (double)(ran[0] + ran[1]);
	*share1 = (double)ran[1] / (double)(ran[0] + ran[1]);
}

static void test_frequent_halts_are_fair(void **state)
{
	static const uint64_t cases[][3] = {
		/* slice, work, pause: 10 ms slices, 150 us work, 1-20 us halts */
		{ 10000, 150, 1 }, { 10000, 150, 10 }, { 10000, 150, 20 },
		{ 10000, 37, 3 }, { 10000, 1, 1 }, { 10000, 9999, 1 },
		{ 10000, 10001, 5 }, { 10, 3, 2 },
	};
	double s0, s1;

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		run_halter(cases[i][0], cases[i][1], cases[i][2], &s0, &s1);
		/* the halter gets no more than half; the other at least half
		 * (it also gets the time the halter sleeps) */
		if (s1 < 0.49 || s0 > 0.51 || s0 < 0.5 * (double)cases[i][1] /
		    (double)(cases[i][1] + cases[i][2]) - 0.01)
			fail_msg("slice %llu work %llu pause %llu: shares %.3f / %.3f",
				 (unsigned long long)cases[i][0], (unsigned long long)cases[i][1],
				 (unsigned long long)cases[i][2], s0, s1);
	}
}

/* ------------------------------------------------------------ remove */

static void test_remove(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 5; i++)
		sched_enqueue(&v[i], false);
	EXPECT_QUEUE(0, 1, 2, 3, 4);
	sched_remove(&v[0]);            /* head */
	EXPECT_QUEUE(1, 2, 3, 4);
	assert_null(v[0].rq_next);
	sched_remove(&v[2]);            /* middle */
	EXPECT_QUEUE(1, 3, 4);
	assert_null(v[2].rq_next);
	sched_remove(&v[4]);            /* tail */
	EXPECT_QUEUE(1, 3);
	assert_ptr_equal(sched.tail, &v[3]);
	sched_enqueue(&v[5], false);    /* appending after a tail removal */
	EXPECT_QUEUE(1, 3, 5);
	sched_enqueue(&v[6], true);
	EXPECT_QUEUE(6, 1, 3, 5);
	sched_remove(&v[9]);            /* not queued: no-op */
	EXPECT_QUEUE(6, 1, 3, 5);
	sched_remove(&v[5]);
	sched_remove(&v[6]);
	sched_remove(&v[1]);
	EXPECT_QUEUE(3);
	sched_remove(&v[3]);            /* the last one */
	EXPECT_EMPTY();
	assert_null(sched.head);
	assert_null(sched.tail);
	sched_enqueue(&v[7], false);
	EXPECT_QUEUE(7);
	assert_ptr_equal(sched.head, &v[7]);
}

static void test_remove_current(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3; i++)
		sched_enqueue(&v[i], false);
	expect_next(0, 0);
	sched_remove(&v[0]);
	v[0].state = VCPU_STOPPED;
	assert_null(sched.current);
	EXPECT_QUEUE(1, 2);
	expect_next(1, 1);
	assert_int_equal(sched.slice_end, 11);
	expect_next(11, 2);
	expect_next(21, 1);
	/* a preempted vCPU sitting second can be removed too */
	asleep(3);
	sched_wake(&v[3], 25);
	expect_next(25, 3);
	EXPECT_QUEUE(1, 2);
	sched_remove(&v[1]);
	EXPECT_QUEUE(2);
	block(3, 26);
	expect_next(26, 2);
}

/* ------------------------------------------------------------ switches */

static void test_switch_count(void **state)
{
	(void)state;
	sched_enqueue(&v[0], false);
	sched_enqueue(&v[1], false);
	for (uint64_t t = 0; t < 100; t++)
		sched_next(t);
	/* picks at 0, 10, ..., 90 */
	assert_int_equal(sched.switches, 10);
	/* staying on the same vCPU is not a switch (1 runs, 0 waits) */
	assert_ptr_equal(sched.current, &v[1]);
	sched_remove(&v[0]);
	for (uint64_t t = 100; t < 200; t++)
		sched_next(t);
	assert_int_equal(sched.switches, 10);
}

/* ------------------------------------------------------------ fairness */

static void test_fairness(void **state)
{
	(void)state;
	for (unsigned n = 2; n <= NV; n++) {
		unsigned runs[NV] = { 0 }, calls = 0;
		struct vcpu *prev = NULL;
		uint64_t now = 0;

		memset(v, 0, sizeof(v));
		for (unsigned i = 0; i < NV; i++)
			v[i].id = i;
		sched_init(SLICE);
		for (unsigned i = 0; i < n; i++)
			sched_enqueue(&v[i], false);
		for (unsigned s = 0; s < 10000; s++, now += SLICE) {
			struct vcpu *cur = sched_next(now);

			calls++;
			assert_non_null(cur);
			assert_true(cur != prev);
			runs[cur->id]++;
			prev = cur;
			/* the others wait in the queue, in rotation order */
			assert_int_equal(queue(NULL, 0), n - 1);
			/* fair at every point: nobody is more than one slice ahead */
			unsigned mn = ~0u, mx = 0;

			for (unsigned i = 0; i < n; i++) {
				mn = runs[i] < mn ? runs[i] : mn;
				mx = runs[i] > mx ? runs[i] : mx;
			}
			assert_true(mx - mn <= 1);
		}
		/* one sched_next() per slice, one switch per slice */
		assert_int_equal(calls, 10000);
		assert_int_equal(sched.switches, 10000);
		for (unsigned i = n; i < NV; i++)
			assert_int_equal(runs[i], 0);
	}
}

/* ------------------------------------------------------------ random */

static uint64_t rng = 0x0123456789abcdefULL;

static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Random legal sequences of operations; after each one, check the queue
 * structure and that every vCPU is in exactly one consistent place. */
static void test_random_operations(void **state)
{
	uint64_t now = 0;
	const unsigned n = 8;

	(void)state;
	for (unsigned i = 0; i < n; i++)
		sched_enqueue(&v[i], false);
	for (unsigned step = 0; step < 200000; step++) {
		uint32_t r = rnd();
		struct vcpu *x = &v[(r >> 8) % n];
		struct vcpu *cur = sched.current;

		switch (r % 8) {
		case 0: case 1: case 2:
			now += r >> 29;
			cur = sched_next(now);
			if (cur) {
				assert_int_equal(cur->state, VCPU_RUNNING);
				assert_true(sched.slice_end > now);
				assert_true(sched.slice_end <= now + SLICE);
			}
			break;
		case 3:
			sched_block_current(now);
			break;
		case 4:
			sched_yield_current();
			break;
		case 5:
		case 6:
			sched_wake(x, now);
			break;
		default:
			if (x->state == VCPU_STOPPED) {
				x->state = VCPU_BLOCKED;        /* restarted later */
			} else if (x->state != VCPU_BLOCKED || (r & 0x10000)) {
				sched_remove(x);
				x->state = VCPU_STOPPED;
			}
			break;
		}
		/* invariants */
		unsigned inq = queue(NULL, 0), runnable = 0;

		for (unsigned i = 0; i < n; i++) {
			bool queued = false;

			for (struct vcpu *p = sched.head; p; p = p->rq_next)
				queued |= p == &v[i];
			if (v[i].state == VCPU_RUNNABLE) {
				runnable++;
				assert_true(queued);
			} else {
				assert_false(queued);
			}
			if (v[i].state == VCPU_RUNNING)
				assert_ptr_equal(sched.current, &v[i]);
			if (sched.current == &v[i])
				assert_int_equal(v[i].state, VCPU_RUNNING);
		}
		assert_int_equal(inq, runnable);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init, setup),
		cmocka_unit_test_setup(test_nothing_runnable, setup),
		cmocka_unit_test_setup(test_enqueue_order, setup),
		cmocka_unit_test_setup(test_round_robin, setup),
		cmocka_unit_test_setup(test_keeps_running_in_slice, setup),
		cmocka_unit_test_setup(test_lone_vcpu, setup),
		cmocka_unit_test_setup(test_wake_preempts, setup),
		cmocka_unit_test_setup(test_wake_then_slice_expiry, setup),
		cmocka_unit_test_setup(test_wake_after_slice_end, setup),
		cmocka_unit_test_setup(test_wake_when_idle, setup),
		cmocka_unit_test_setup(test_wake_ignores_non_blocked, setup),
		cmocka_unit_test_setup(test_yield, setup),
		cmocka_unit_test_setup(test_yield_lone, setup),
		cmocka_unit_test_setup(test_block, setup),
		cmocka_unit_test_setup(test_promote_boost, setup),
		cmocka_unit_test_setup(test_promote_debt_is_repaid, setup),
		cmocka_unit_test_setup(test_promote_keeps_slice_left, setup),
		cmocka_unit_test_setup(test_promote_ignores_others, setup),
		cmocka_unit_test_setup(test_halt_keeps_slice, setup),
		cmocka_unit_test_setup(test_halt_at_slice_end_queues_behind, setup),
		cmocka_unit_test_setup(test_long_sleep_gets_fresh_slice, setup),
		cmocka_unit_test_setup(test_frequent_halts_are_fair, setup),
		cmocka_unit_test_setup(test_remove, setup),
		cmocka_unit_test_setup(test_remove_current, setup),
		cmocka_unit_test_setup(test_switch_count, setup),
		cmocka_unit_test_setup(test_fairness, setup),
		cmocka_unit_test_setup(test_random_operations, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
