#include "core/sched.h"
#include "lib/string.h"

struct sched sched;

void sched_init(uint64_t slice_ticks)
{
	memset(&sched, 0, sizeof(sched));
	sched.slice = slice_ticks ? slice_ticks : 1;
}

void sched_enqueue(struct vcpu *v, bool at_head)
{
	v->state = VCPU_RUNNABLE;
	v->rq_next = NULL;
	if (!sched.head) {
		sched.head = sched.tail = v;
	} else if (at_head) {
		v->rq_next = sched.head;
		sched.head = v;
	} else {
		sched.tail->rq_next = v;
		sched.tail = v;
	}
}

/* Second place in the queue: behind a vCPU that just woke up. */
static void enqueue_second(struct vcpu *v)
{
	if (!sched.head) {
		sched_enqueue(v, true);
		return;
	}
	v->state = VCPU_RUNNABLE;
	v->rq_next = sched.head->rq_next;
	sched.head->rq_next = v;
	if (sched.tail == sched.head)
		sched.tail = v;
}

void sched_remove(struct vcpu *v)
{
	struct vcpu **pp = &sched.head, *prev = NULL;

	if (sched.current == v)
		sched.current = NULL;
	for (; *pp; prev = *pp, pp = &(*pp)->rq_next) {
		if (*pp == v) {
			*pp = v->rq_next;
			if (sched.tail == v)
				sched.tail = prev;
			v->rq_next = NULL;
			return;
		}
	}
}

static struct vcpu *pop_head(void)
{
	struct vcpu *v = sched.head;

	if (v) {
		sched.head = v->rq_next;
		if (!sched.head)
			sched.tail = NULL;
		v->rq_next = NULL;
	}
	return v;
}

static uint64_t boost_ticks(void)
{
	return sched.slice / SCHED_BOOST_DIV ? sched.slice / SCHED_BOOST_DIV : 1;
}

/* A new turn: a slice, less what earlier boosts lent it (a turn is never
 * shorter than a boost; the rest of the debt waits for the next turns). */
static uint64_t fresh_slice(struct vcpu *v)
{
	uint64_t pay = v->slice_debt, max;

	if (likely(!pay))
		return sched.slice;     /* the usual case, on every slice-end switch */
	max = sched.slice > boost_ticks() ? sched.slice - boost_ticks() : 0;
	if (pay > max)
		pay = max;
	v->slice_debt -= pay;
	return sched.slice - pay;
}

struct vcpu *sched_next(uint64_t now)
{
	struct vcpu *cur = sched.current, *v;

	if (cur && cur->state == VCPU_RUNNING) {
		if (!sched.need_resched && now < sched.slice_end)
			return cur;
		if (!sched.head) {
			/* Alone on the CPU: a new slice, no switch. */
			sched.need_resched = false;
			if (now >= sched.slice_end)
				sched.slice_end = now + sched.slice;
			return cur;
		}
		if (now < sched.slice_end) {
			/* Preempted by a wake-up: keep the rest of the slice. */
			cur->slice_left = sched.slice_end - now;
			enqueue_second(cur);
		} else {
			cur->slice_left = 0;
			sched_enqueue(cur, false);
		}
	}
	sched.need_resched = false;
	v = pop_head();
	sched.current = v;
	if (!v)
		return NULL;
	v->state = VCPU_RUNNING;
	sched.slice_end = now + (v->slice_left ? v->slice_left : fresh_slice(v));
	v->slice_left = 0;
	if (v != cur)
		sched.switches++;
	return v;
}

void sched_block_current(uint64_t now)
{
	struct vcpu *cur = sched.current;

	if (cur) {
		cur->state = VCPU_BLOCKED;
		/* What is left of the slice stays its own: a wake-up must not
		 * hand it a fresh one (see sched_wake). */
		cur->slice_left = now < sched.slice_end ? sched.slice_end - now : 0;
		cur->blocked_at = now;
	}
	sched.current = NULL;
}

void sched_yield_current(void)
{
	struct vcpu *cur = sched.current;

	if (cur) {
		cur->slice_left = 0;
		sched_enqueue(cur, false);
	}
	sched.current = NULL;
}

void sched_wake(struct vcpu *v, uint64_t now)
{
	if (v->state != VCPU_BLOCKED)
		return;
	if (now - v->blocked_at >= sched.slice) {
		/* Asleep for a whole slice or more: the others have had their
		 * turn meanwhile; a fresh slice, at once. */
		v->slice_left = sched.slice;
	} else if (!v->slice_left) {
		/* A short halt after using up its slice: its turn is over. It
		 * takes its interrupt at once on a lent boost (paid back from
		 * its next turn, as sched_promote's), unless it already owes a
		 * slice: then it queues behind the others. */
		if (v->slice_debt >= sched.slice) {
			sched_enqueue(v, false);
			return;
		}
		v->slice_left = boost_ticks();
		v->slice_debt += v->slice_left;
	} else if (v->slice_left < boost_ticks() && v->slice_debt < sched.slice) {
		/* a sliver of slice left: topped up to a boost, lent too, so
		 * the interrupt it woke for is handled in one go */
		v->slice_debt += boost_ticks() - v->slice_left;
		v->slice_left = boost_ticks();
	}
	/* Otherwise it preempts with the rest of the slice it halted in, so
	 * halting briefly and often neither gains nor loses CPU time. */
	sched_enqueue(v, true);
	if (sched.current && sched.current != v)
		sched.need_resched = true;
}

/*
 * A queued vCPU whose own timer has raised an interrupt: it goes to the head
 * and preempts the running vCPU (which keeps the rest of its slice), as a
 * wake-up does. Without a slice of its own left it gets a short boost
 * (1/SCHED_BOOST_DIV of a slice), enough to take the interrupt but not a
 * turn it has not waited for, and lent: its next turns are shorter by as
 * much, so a CPU-bound vCPU with a fast timer cannot crowd out the others.
 */
void sched_promote(struct vcpu *v)
{
	/* not beyond a slice of debt: a vCPU that cannot take the interrupt
	 * yet (masked in the guest) must not be promoted again and again
	 * while the vCPU that would let it go on (an SMP peer holding a lock)
	 * never runs; it waits for its own turn then */
	if (v->state != VCPU_RUNNABLE || v->slice_debt >= sched.slice)
		return;
	sched_remove(v);
	sched_enqueue(v, true);
	if (!v->slice_left) {
		v->slice_left = boost_ticks();
		v->slice_debt += v->slice_left;         /* a loan, not a gift */
	}
	if (sched.current)
		sched.need_resched = true;
}
