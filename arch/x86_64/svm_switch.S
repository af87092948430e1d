/*
 * int svm_enter(struct vcpu *v, struct arch_vcpu *a)
 * Runs the guest until an exit svm_fast() does not finish, and returns what
 * svm_fast() said about that exit (svm.c). The guest's general-purpose
 * registers live in a->gprs and a->rax (RAX goes through the VMCB: VMRUN
 * loads it from there, #VMEXIT saves it there and restores the host's,
 * which is the VMCB's address). GIF is clear throughout (svm_vcpu_run).
 *
 * Each exit goes to svm_fast(v), which finishes CPUID, hypercalls, MSR
 * reads and port I/O and returns SVM_LOOP to enter again at once. Between
 * those entries the guest's RBP and R12-R15 stay in the CPU: svm_fast is a
 * C function and preserves them, and none of what it finishes reads or
 * writes them (CPUID writes RBX, which is saved before and loaded after
 * the call). They go back to a->gprs when the loop ends.
 */
#define G_RBX 0
#define G_RCX 8
#define G_RDX 16
#define G_RSI 24
#define G_RDI 32
#define G_RBP 40
#define G_R8  48
#define G_R9  56
#define G_R10 64
#define G_R11 72
#define G_R12 80
#define G_R13 88
#define G_R14 96
#define G_R15 104
#define A_RAX 112
#define A_VMCB_PA 128
#define VMCB_RAX 0x5F8
#define SVM_LOOP 1

	.text
	.global svm_enter
svm_enter:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi                    /* v: 16(%rsp) */
	pushq	%rsi                    /* a: 8(%rsp), then the guest's RDI */
	subq	$8, %rsp                /* (%rsp) unused: calls see a 16-byte aligned stack */
	movq	G_RBX(%rsi), %rbx
	movq	G_RBP(%rsi), %rbp
	movq	G_R12(%rsi), %r12
	movq	G_R13(%rsi), %r13
	movq	G_R14(%rsi), %r14
	movq	G_R15(%rsi), %r15
1:	movq	8(%rsp), %rdi           /* a */
	movq	A_VMCB_PA(%rdi), %rax   /* VMRUN takes the VMCB in RAX */
	movq	A_RAX(%rdi), %rcx
	movq	%rcx, VMCB_RAX(%rax)
	movq	G_RCX(%rdi), %rcx
	movq	G_RDX(%rdi), %rdx
	movq	G_RSI(%rdi), %rsi
	movq	G_R8(%rdi), %r8
	movq	G_R9(%rdi), %r9
	movq	G_R10(%rdi), %r10
	movq	G_R11(%rdi), %r11
	movq	G_RDI(%rdi), %rdi
	vmrun	%rax
	xchgq	%rdi, 8(%rsp)           /* a <-> guest RDI */
	movq	%rbx, G_RBX(%rdi)
	movq	%rcx, G_RCX(%rdi)
	movq	%rdx, G_RDX(%rdi)
	movq	%rsi, G_RSI(%rdi)
	movq	%r8, G_R8(%rdi)
	movq	%r9, G_R9(%rdi)
	movq	%r10, G_R10(%rdi)
	movq	%r11, G_R11(%rdi)
	movq	8(%rsp), %rcx
	movq	%rcx, G_RDI(%rdi)
	movq	%rdi, 8(%rsp)           /* a again */
	movq	VMCB_RAX(%rax), %rcx
	movq	%rcx, A_RAX(%rdi)
	movq	16(%rsp), %rdi          /* v */
	call	svm_fast
	movq	8(%rsp), %rdi
	movq	G_RBX(%rdi), %rbx       /* CPUID's result */
	cmpl	$SVM_LOOP, %eax
	je	1b
	movq	%rbp, G_RBP(%rdi)
	movq	%r12, G_R12(%rdi)
	movq	%r13, G_R13(%rdi)
	movq	%r14, G_R14(%rdi)
	movq	%r15, G_R15(%rdi)
	addq	$24, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
