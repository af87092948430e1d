/*
 * The measured sequences of the bench guest, in assembly so that the
 * compiler cannot put anything between the two counter reads.
 *
 * Under QEMU -icount shift=0 `rdinstret` is exact: a read returns the number
 * of instructions the hart has executed, counting the read itself, plus a
 * constant. So for `rdinstret a; <op>; rdinstret b`, b - a - 1 is what <op>
 * cost in instructions, everything the hart did for it included (hypervisor,
 * firmware). The C side subtracts the empty sequence (`rdinstret a;
 * rdinstret b`, delta 1) measured the same way.
 *
 * Under QEMU the instruction counter and the time CSR are one clock (virtual
 * nanoseconds): time = floor((instret + C) / 100) at 10 MHz, idle time
 * skipped with sleep=off included in both. bench_edge() uses that.
 */
#define SBI_EXT_TIME 0x54494D45

	.text

/* uint64_t bench_empty(void) */
	.globl bench_empty
	.balign 4
bench_empty:
	rdinstret t0
	rdinstret t1
	sub	a0, t1, t0
	ret

/* uint64_t bench_ecall(unsigned long eid, unsigned long fid): a0 = delta.
 * The SBI result (a0, a1) is discarded; a2..a5 are passed as zero. */
	.globl bench_ecall
	.balign 4
bench_ecall:
	mv	a7, a0
	mv	a6, a1
	li	a0, 0
	li	a1, 0
	li	a2, 0
	li	a3, 0
	li	a4, 0
	li	a5, 0
	rdinstret t0
	ecall
	rdinstret t1
	sub	a0, t1, t0
	ret

/* uint64_t bench_load8(volatile uint8_t *p, uint8_t *out) */
	.globl bench_load8
	.balign 4
bench_load8:
	rdinstret t0
	lbu	t2, 0(a0)
	rdinstret t1
	sb	t2, 0(a1)
	sub	a0, t1, t0
	ret

/* uint64_t bench_store8(volatile uint8_t *p, uint8_t v) */
	.globl bench_store8
	.balign 4
bench_store8:
	rdinstret t0
	sb	a1, 0(a0)
	rdinstret t1
	sub	a0, t1, t0
	ret

/* uint64_t bench_csr_hpm3(unsigned long *out): csrr hpmcounter3 */
	.globl bench_csr_hpm3
	.balign 4
bench_csr_hpm3:
	rdinstret t0
	csrr	t2, hpmcounter3
	rdinstret t1
	sd	t2, 0(a0)
	sub	a0, t1, t0
	ret

/*
 * uint64_t bench_edge(uint64_t *tick)
 * Waits for the time CSR to step and returns E: the value a `rdinstret`
 * would have read had it been the first instruction to see the new time
 * *tick. Eight back-to-back `rdtime`s see consecutive instants, so the step
 * is found to the instruction. A window that the hart left (an exit: the
 * two rdinstrets around it are not 9 apart) is thrown away.
 */
	.globl bench_edge
	.balign 4
bench_edge:
1:	rdinstret t5
	rdtime	a2
	rdtime	a3
	rdtime	a4
	rdtime	a5
	rdtime	a6
	rdtime	a7
	rdtime	t3
	rdtime	t4
	rdinstret t2
	sub	t6, t2, t5
	addi	t6, t6, -9
	bnez	t6, 1b
	beq	a2, t4, 1b
	/* k = index of the first read that differs from the first one */
	li	t0, 1
	mv	t1, a3
	bne	a3, a2, 2f
	li	t0, 2
	mv	t1, a4
	bne	a4, a2, 2f
	li	t0, 3
	mv	t1, a5
	bne	a5, a2, 2f
	li	t0, 4
	mv	t1, a6
	bne	a6, a2, 2f
	li	t0, 5
	mv	t1, a7
	bne	a7, a2, 2f
	li	t0, 6
	mv	t1, t3
	bne	t3, a2, 2f
	li	t0, 7
	mv	t1, t4
2:	sd	t1, 0(a0)
	addi	t2, t2, -8	/* the last rdinstret sat 8 instructions after read 0 */
	add	a0, t2, t0
	ret

/*
 * uint64_t bench_timer_round(uint64_t deadline, unsigned long phase,
 *                            unsigned long use_wfi, unsigned long *scause)
 * Arms the SBI timer for `deadline` with the ecall placed at a chosen phase
 * of the 100-instruction tick (phase + a constant, mod 100: a computed jump
 * into a sled of 4-byte nops), enables the timer interrupt and spins (or
 * sleeps in wfi) until it arrives. Returns what `rdinstret` read as the
 * first instruction of the trap handler; *scause gets the trap's cause.
 * The handler returns here with interrupts off; the caller clears the
 * timer. Uses t3 for the saved stvec and t4..t6 in the handler.
 */
	.globl bench_timer_round
	.balign 4
bench_timer_round:
	addi	sp, sp, -16
	sd	a3, 0(sp)
	la	t0, bench_tvec
	csrrw	t3, stvec, t0
	li	t0, 0x20		/* sie.STIE */
	csrs	sie, t0
	li	a7, SBI_EXT_TIME
	li	a6, 0
	/* q = (phase + 100 - instret % 100) % 100 nops before the ecall */
	rdinstret t0
	li	t1, 100
	remu	t2, t0, t1
	addi	a1, a1, 100
	sub	t2, a1, t2
	remu	t2, t2, t1
	slli	t2, t2, 2
	la	t1, 3f
	sub	t1, t1, t2
	jr	t1
	.option push
	.option norvc
	.rept 100
	addi	x0, x0, 0
	.endr
	.option pop
3:	ecall
	csrsi	sstatus, 2		/* SIE on: the interrupt may come */
	bnez	a2, 5f
4:	j	4b
5:	wfi
	j	5b

	.balign 4
bench_tvec:
	rdinstret t6			/* the handler's first instruction */
	csrr	t5, scause
	la	t4, 6f
	csrw	sepc, t4
	li	t4, 0x20		/* sstatus.SPIE: stay masked after sret */
	csrc	sstatus, t4
	sret
6:	csrw	stvec, t3
	ld	a3, 0(sp)
	addi	sp, sp, 16
	sd	t5, 0(a3)
	mv	a0, t6
	ret

/*
 * void bench_spin(struct spin *s)   (layout: SPIN_* below, struct spin in main.c)
 *
 * Spins and records every gap in this vCPU's execution: a pair of
 * consecutive instret reads further apart than this loop's own instructions
 * between them plus GAP_MIN means the hart left the vCPU (an exit, or other
 * VMs ran). away = (first - last) - own instructions is then exact.
 *
 * Reading instret is slow under TCG (every CSR access ends a translation
 * block), so the loop has two modes:
 *   sparse  SPARSE_N iterations of a 2-instruction loop per read:
 *           SPARSE_OWN = 2 * SPARSE_N + 6 own instructions between reads;
 *   dense   reads 3 instructions apart (rdinstret, sub, bgeu), so a gap is
 *           placed to within the loop's 3 instructions.
 * After a gap (the vCPU was resumed) it runs sparse for run_len
 * instructions, then dense until the next gap: with run_len a little below
 * the time slice, the end of every slice is seen densely.
 *
 * Gaps whose read after is >= from are stored as (last, first, dense) in
 * buf; the loop returns at the first gap whose read after is >= until (it
 * is stored), or at a read >= until when it turns dense, or when buf is
 * full (n = max, full = 1).
 */
#define GAP_MIN 64
#define SPARSE_N 500
#define SPARSE_OWN (2 * SPARSE_N + 6)
#define SPIN_FROM 0
#define SPIN_UNTIL 8
#define SPIN_RUN_LEN 16
#define SPIN_BUF 24
#define SPIN_MAX 32
#define SPIN_START 40
#define SPIN_END 48
#define SPIN_N 56
#define SPIN_FULL 64
	.globl bench_spin
	.globl bench_spin_sparse_own
	.balign 4
bench_spin_sparse_own:
	li	a0, SPARSE_OWN
	ret

	.balign 4
bench_spin:
	ld	a1, SPIN_FROM(a0)
	ld	a2, SPIN_UNTIL(a0)
	ld	a6, SPIN_RUN_LEN(a0)
	ld	a3, SPIN_BUF(a0)
	ld	a4, SPIN_MAX(a0)
	li	t3, 3 + GAP_MIN
	li	a5, SPARSE_OWN + GAP_MIN
	li	t4, 0			/* gaps stored */
	sd	zero, SPIN_FULL(a0)
	rdinstret t0
	sd	t0, SPIN_START(a0)
	add	t6, t0, a6		/* dense from here on */
.Lsparse:
	li	t5, SPARSE_N
1:	addi	t5, t5, -1
	bnez	t5, 1b
	rdinstret t1
	sub	t2, t1, t0
	mv	t0, t1
	bgeu	t2, a5, .Lsgap
	bltu	t1, t6, .Lsparse
	/* time to go dense; also where a run with no gap notices until */
	bgeu	t1, a2, .Ldone
.Ldense:
	.rept 64
	rdinstret t1
	sub	t2, t1, t0
	bgeu	t2, t3, .Ldgap1
	rdinstret t0
	sub	t2, t0, t1
	bgeu	t2, t3, .Ldgap0
	.endr
	j	.Ldense
.Ldgap1:			/* last = t0, first = t1 */
	mv	t5, t0
	mv	t0, t1
	li	a7, 1
	j	.Lgap
.Ldgap0:			/* last = t1, first = t0 */
	mv	t5, t1
	li	a7, 1
	j	.Lgap
.Lsgap:				/* first = t0 (= t1), last = t1 - t2 */
	sub	t5, t1, t2
	li	a7, 0
.Lgap:				/* t5 = last, t0 = first, a7 = dense */
	bltu	t0, a1, 2f
	bgeu	t4, a4, .Lfull
	li	t2, 24
	mul	t2, t2, t4
	add	t2, t2, a3
	sd	t5, 0(t2)
	sd	t0, 8(t2)
	sd	a7, 16(t2)
	addi	t4, t4, 1
	bgeu	t0, a2, .Ldone
2:	add	t6, t0, a6		/* resumed: sparse again for run_len */
	j	.Lsparse
.Lfull:
	li	t2, 1
	sd	t2, SPIN_FULL(a0)
.Ldone:
	sd	t0, SPIN_END(a0)
	sd	t4, SPIN_N(a0)
	ret
