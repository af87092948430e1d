/*
 * Round-robin scheduler for one physical CPU: a FIFO run queue of RUNNABLE
 * vCPUs, O(1) pick and enqueue. A vCPU runs for the configured slice; a vCPU
 * woken from a halt goes to the head of the queue and preempts the current
 * one (which keeps the rest of its slice), so wake-up latency stays low.
 * A halt does not refill the slice: the vCPU wakes with what it had left
 * (at the tail if nothing), unless it slept for a whole slice or longer.
 */
#ifndef TESSERA_CORE_SCHED_H
#define TESSERA_CORE_SCHED_H

#include "core/vm.h"

struct sched {
	struct vcpu *head, *tail;
	struct vcpu *current;
	uint64_t slice;                 /* ticks */
	uint64_t slice_end;             /* host time the current slice ends */
	bool need_resched;
	uint64_t switches;
};

extern struct sched sched;

void sched_init(uint64_t slice_ticks);
void sched_enqueue(struct vcpu *v, bool at_head);
void sched_remove(struct vcpu *v);
/* Pick the next vCPU to run at time `now` (NULL: nothing runnable). The
 * current vCPU keeps running while its slice lasts and nobody preempts it. */
struct vcpu *sched_next(uint64_t now);
/* The current vCPU halts at time `now`, keeping the rest of its slice. */
void sched_block_current(uint64_t now);
void sched_yield_current(void);
/* A halted vCPU became runnable at time `now`. */
void sched_wake(struct vcpu *v, uint64_t now);
/* A queued vCPU has an interrupt from its own timer: it runs next, at once. */
#define SCHED_BOOST_DIV 8
void sched_promote(struct vcpu *v);

#endif
