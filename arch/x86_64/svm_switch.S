/*
 * void svm_enter(struct x86_gprs *gprs, uint64_t vmcb_pa)
 * Runs the guest until its next #VMEXIT. RAX, RSP, RIP and RFLAGS live in
 * the VMCB; the other general-purpose registers in *gprs. VMLOAD/VMSAVE move
 * the guest's FS, GS, TR, LDTR, KernelGSBase and SYSCALL/SYSENTER MSRs, so
 * none of them leaks from one VM to the next. GIF is clear from before
 * VMLOAD to after VMSAVE, and RFLAGS.IF is set across VMRUN: with
 * V_INTR_MASKING the host's IF decides whether physical interrupts reach
 * the host, so the LAPIC timer ends the guest's run with an INTR exit and
 * stays pending (IF=0 again) until the host chooses to take it.
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

	.text
	.global svm_enter
svm_enter:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi                    /* gprs */
	movq	%rsi, %rax              /* vmcb_pa: VMLOAD/VMRUN/VMSAVE take it in RAX */
	movq	G_RBX(%rdi), %rbx
	movq	G_RCX(%rdi), %rcx
	movq	G_RDX(%rdi), %rdx
	movq	G_RSI(%rdi), %rsi
	movq	G_RBP(%rdi), %rbp
	movq	G_R8(%rdi), %r8
	movq	G_R9(%rdi), %r9
	movq	G_R10(%rdi), %r10
	movq	G_R11(%rdi), %r11
	movq	G_R12(%rdi), %r12
	movq	G_R13(%rdi), %r13
	movq	G_R14(%rdi), %r14
	movq	G_R15(%rdi), %r15
	movq	G_RDI(%rdi), %rdi
	clgi
	sti                             /* IF=1 (GIF still 0): with V_INTR_MASKING */
	vmload	%rax                    /* the host's IF lets a physical interrupt */
	vmrun	%rax                    /* end the guest's run as an INTR exit */
	vmsave	%rax
	cli
	stgi
	pushq	%rdi                    /* guest rdi */
	movq	8(%rsp), %rdi           /* gprs */
	movq	%rbx, G_RBX(%rdi)
	movq	%rcx, G_RCX(%rdi)
	movq	%rdx, G_RDX(%rdi)
	movq	%rsi, G_RSI(%rdi)
	movq	%rbp, G_RBP(%rdi)
	movq	%r8, G_R8(%rdi)
	movq	%r9, G_R9(%rdi)
	movq	%r10, G_R10(%rdi)
	movq	%r11, G_R11(%rdi)
	movq	%r12, G_R12(%rdi)
	movq	%r13, G_R13(%rdi)
	movq	%r14, G_R14(%rdi)
	movq	%r15, G_R15(%rdi)
	popq	%rax
	movq	%rax, G_RDI(%rdi)
	popq	%rdi
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret
