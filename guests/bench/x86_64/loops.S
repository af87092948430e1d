/*
 * The measured sequences of the x86 bench guest, in assembly so that the
 * compiler cannot put anything between the two counter reads.
 *
 * Under QEMU -icount shift=0 the TSC is the virtual clock in nanoseconds,
 * which advances by exactly one per instruction executed (guest or host
 * alike; idle time skipped with sleep=off included), and `rdtsc` ends its
 * translation block so it reads it exactly. Under Bochs the TSC counts
 * instructions too. So for
 *     START; <setup k>; <op>; END
 * delta - empty - k is what <op> cost in instructions: everything the
 * machine executed for it (the hypervisor's exit path; the trapping
 * instruction itself when the emulator counts it). The empty sequence is
 * START; END measured the same way (bench_empty).
 *
 * START: rdtsc; keep EDX:EAX in r9:r8 (2 movs). END: rdtsc, then the
 * 64-bit difference into rax. r8-r11 are free scratch registers in the
 * SysV ABI. The guest's TSC is the host's plus a per-VM offset: deltas are
 * unaffected.
 */
#define START rdtsc; mov %eax, %r8d; mov %edx, %r9d
#define END rdtsc; shl $32, %rdx; or %rdx, %rax; shl $32, %r9; or %r9, %r8; sub %r8, %rax

	.code64
	.text

/* uint64_t bench_empty(void) */
	.globl bench_empty
bench_empty:
	START
	END
	ret

/* uint64_t bench_vmmcall(uint64_t fn, uint64_t *ret)   setup 1 */
	.globl bench_vmmcall
bench_vmmcall:
	START
	mov	%rdi, %rax
	vmmcall
	mov	%rax, %r10
	END
	mov	%r10, (%rsi)
	ret

/* uint64_t bench_vmcall(uint64_t fn, uint64_t *ret)   setup 1 */
	.globl bench_vmcall
bench_vmcall:
	START
	mov	%rdi, %rax
	vmcall
	mov	%rax, %r10
	END
	mov	%r10, (%rsi)
	ret

/* uint64_t bench_cpuid0(uint32_t *max_leaf)   setup 1 (xor eax), 1 after */
	.globl bench_cpuid0
bench_cpuid0:
	push	%rbx
	xor	%ecx, %ecx
	START
	xor	%eax, %eax
	cpuid
	mov	%eax, %r10d
	END
	mov	%r10d, (%rdi)
	pop	%rbx
	ret

/* uint64_t bench_outb(uint16_t port, uint8_t v)   setup 2 */
	.globl bench_outb
bench_outb:
	mov	%edi, %r10d
	mov	%esi, %r11d
	START
	mov	%r10d, %edx
	mov	%r11d, %eax
	outb	%al, %dx
	END
	ret

/* uint64_t bench_inb(uint16_t port, uint8_t *out)   setup 1, 1 after */
	.globl bench_inb
bench_inb:
	mov	%edi, %r10d
	START
	mov	%r10d, %edx
	inb	%dx, %al
	mov	%eax, %r11d
	END
	mov	%r11b, (%rsi)
	ret

/* uint64_t bench_rdmsr(uint32_t msr, uint64_t *val)   2 after */
	.globl bench_rdmsr
bench_rdmsr:
	mov	%edi, %ecx
	START
	rdmsr
	mov	%eax, %r10d
	mov	%edx, %r11d
	END
	shl	$32, %r11
	or	%r11, %r10
	mov	%r10, (%rsi)
	ret

/*
 * uint64_t bench_timer_round(uint64_t deadline, uint64_t use_hlt)
 * Arms the LAPIC TSC-deadline timer (x2APIC mode, LVT timer already set to
 * TSC-deadline mode, vector BENCH_TIMER_VEC, IDT gate pointing at
 * bench_timer_isr) for `deadline`, enables interrupts and spins (or sleeps
 * in HLT) until the interrupt arrives. Returns the TSC read by the
 * handler's first instruction; interrupts are off again on return (the
 * caller sends the EOI). The handler clobbers rax, rdx only: the waiting
 * loops below use neither.
 */
	.globl bench_timer_round, bench_timer_isr
bench_timer_round:
	movl	$0, bench_fired(%rip)
	mov	$0x6e0, %ecx
	mov	%edi, %eax
	mov	%rdi, %rdx
	shr	$32, %rdx
	wrmsr
	test	%rsi, %rsi
	jnz	2f
	sti
1:	testl	$1, bench_fired(%rip)
	jz	1b
	jmp	3f
2:	sti
	hlt
	testl	$1, bench_fired(%rip)
	jz	2b
3:	cli
	mov	bench_tsc(%rip), %rax
	ret

	.balign 16
bench_timer_isr:
	rdtsc				/* the handler's first instruction */
	shl	$32, %rdx
	or	%rdx, %rax
	mov	%rax, bench_tsc(%rip)
	movl	$1, bench_fired(%rip)
	iretq

/*
 * void bench_spin(struct spin *s)   (layout: SPIN_* below, struct spin in main.c)
 *
 * Spins and records every gap in this vCPU's execution: a pair of
 * consecutive TSC reads further apart than this loop's own instructions
 * between them plus GAP_MIN means the vCPU was off the CPU (an exit, or
 * other VMs ran). away = (first - last) - own instructions is then exact.
 *
 * Reading the TSC is slow under TCG icount (it ends a translation block),
 * so the loop has two modes:
 *   sparse  SPARSE_N iterations of a 2-instruction loop per read:
 *           SPARSE_OWN own instructions between reads;
 *   dense   reads DENSE_OWN = 8 instructions apart, so a gap is placed to
 *           within the loop's 8 instructions.
 * After a gap of at least `long` ticks (other VMs ran: a new slice) it
 * runs sparse for run_len TSC ticks, then dense until the next gap: with
 * run_len a little below the time slice, the end of every slice is seen
 * densely. Shorter gaps (an exit in the middle of the slice) do not
 * restart the sparse stretch.
 *
 * Gaps whose read after is >= from are stored as (last, first, dense) in
 * buf; the loop returns at the first gap whose read after is >= until (it
 * is stored), or at a read >= until when it turns dense, or when buf is
 * full (n = max, full = 1).
 *
 * Registers: r8 = previous read, rdi = struct, rsi = from, r12 = until,
 * r13 = run_len, r14 = buf, r15 = max, rbx = gaps stored, rbp = dense from,
 * r10 = sparse threshold, r11 = dense threshold.
 */
#define GAP_MIN 64
#define SPARSE_N 500
/* sparse: mov $N; N x (dec, jnz); rdtsc shl or mov sub mov cmp jae cmp jb
 * (jb back to .Lsparse) = 1 + 2N + 10 */
#define SPARSE_OWN (2 * SPARSE_N + 11)
#define DENSE_OWN 8
#define SPIN_FROM 0
#define SPIN_UNTIL 8
#define SPIN_RUN_LEN 16
#define SPIN_BUF 24
#define SPIN_MAX 32
#define SPIN_START 40
#define SPIN_END 48
#define SPIN_N 56
#define SPIN_FULL 64
#define SPIN_LONG 72
#define READ rdtsc; shl $32, %rdx; or %rdx, %rax

	.globl bench_spin
	.globl bench_spin_sparse_own
bench_spin_sparse_own:
	mov	$SPARSE_OWN, %eax
	ret

bench_spin:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	SPIN_FROM(%rdi), %rsi
	mov	SPIN_UNTIL(%rdi), %r12
	mov	SPIN_RUN_LEN(%rdi), %r13
	mov	SPIN_BUF(%rdi), %r14
	mov	SPIN_MAX(%rdi), %r15
	mov	$DENSE_OWN + GAP_MIN, %r11
	mov	$SPARSE_OWN + GAP_MIN, %r10
	xor	%ebx, %ebx
	movq	$0, SPIN_FULL(%rdi)
	READ
	mov	%rax, %r8
	mov	%rax, SPIN_START(%rdi)
	lea	(%rax,%r13), %rbp	/* dense from here on */
.Lsparse:
	mov	$SPARSE_N, %ecx
1:	dec	%ecx
	jnz	1b
	READ
	mov	%rax, %rcx
	sub	%r8, %rcx
	mov	%rax, %r8
	cmp	%r10, %rcx
	jae	.Lsgap
	cmp	%rbp, %rax
	jb	.Lsparse
	/* time to go dense; also where a run with no gap notices until */
	cmp	%r12, %rax
	jae	.Ldone
.Ldense:
	.rept 64
	READ
	mov	%rax, %rcx
	sub	%r8, %rcx
	mov	%rax, %r8
	cmp	%r11, %rcx
	jae	.Ldgap
	.endr
	jmp	.Ldense
.Ldgap:				/* first = r8, last = r8 - rcx */
	mov	$1, %r9d
	jmp	.Lgap
.Lsgap:
	xor	%r9d, %r9d
.Lgap:				/* r8 = first, rcx = first - last, r9 = dense */
	cmp	%rsi, %r8
	jb	2f
	cmp	%r15, %rbx
	jae	.Lfull
	imul	$24, %rbx, %rax
	add	%r14, %rax
	mov	%r8, %rdx
	sub	%rcx, %rdx
	mov	%rdx, 0(%rax)
	mov	%r8, 8(%rax)
	mov	%r9, 16(%rax)
	inc	%rbx
	cmp	%r12, %r8
	jae	.Ldone
2:	cmp	SPIN_LONG(%rdi), %rcx
	jb	.Lsparse		/* a short exit: same slice */
	lea	(%r8,%r13), %rbp	/* a new slice: sparse again for run_len */
	jmp	.Lsparse
.Lfull:
	movq	$1, SPIN_FULL(%rdi)
.Ldone:
	mov	%r8, SPIN_END(%rdi)
	mov	%rbx, SPIN_N(%rdi)
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret

	.bss
	.balign 8
	.globl bench_tsc, bench_fired
bench_tsc:
	.quad	0
bench_fired:
	.long	0

	.section .note.GNU-stack, "", @progbits
