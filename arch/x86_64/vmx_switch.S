/*
 * int vmx_enter(struct arch_vcpu *a, int launched)
 * Loads the guest's general-purpose registers (RSP, RIP and RFLAGS live in
 * the VMCS) and enters with VMLAUNCH (first time) or VMRESUME. A VM exit
 * lands in vmx_exit with the stack as it was at entry, where the arch_vcpu
 * pointer waits; the guest's registers are saved and vmx_enter returns 0.
 * A failed VMLAUNCH/VMRESUME returns 1 (the caller reads the VM-instruction
 * error field).
 */
#define A_RBX 0
#define A_RCX 8
#define A_RDX 16
#define A_RSI 24
#define A_RDI 32
#define A_RBP 40
#define A_R8  48
#define A_R9  56
#define A_R10 64
#define A_R11 72
#define A_R12 80
#define A_R13 88
#define A_R14 96
#define A_R15 104
#define A_RAX 112
#define VMCS_HOST_RSP 0x6C14

	.text
	.global vmx_enter
vmx_enter:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi                    /* arch_vcpu, found again at the exit */
	movq	$VMCS_HOST_RSP, %rax
	vmwrite	%rsp, %rax
	testl	%esi, %esi
	movq	A_RAX(%rdi), %rax
	movq	A_RBX(%rdi), %rbx
	movq	A_RCX(%rdi), %rcx
	movq	A_RDX(%rdi), %rdx
	movq	A_RSI(%rdi), %rsi
	movq	A_RBP(%rdi), %rbp
	movq	A_R8(%rdi), %r8
	movq	A_R9(%rdi), %r9
	movq	A_R10(%rdi), %r10
	movq	A_R11(%rdi), %r11
	movq	A_R12(%rdi), %r12
	movq	A_R13(%rdi), %r13
	movq	A_R14(%rdi), %r14
	movq	A_R15(%rdi), %r15
	movq	A_RDI(%rdi), %rdi       /* flags from testl survive the movs */
	jnz	1f
	vmlaunch
	jmp	2f
1:	vmresume
2:	/* only reached when the entry failed */
	popq	%rdi
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	movl	$1, %eax
	ret

	.global vmx_exit
vmx_exit:
	pushq	%rdi                    /* guest rdi */
	movq	8(%rsp), %rdi           /* arch_vcpu */
	movq	%rax, A_RAX(%rdi)
	movq	%rbx, A_RBX(%rdi)
	movq	%rcx, A_RCX(%rdi)
	movq	%rdx, A_RDX(%rdi)
	movq	%rsi, A_RSI(%rdi)
	movq	%rbp, A_RBP(%rdi)
	movq	%r8, A_R8(%rdi)
	movq	%r9, A_R9(%rdi)
	movq	%r10, A_R10(%rdi)
	movq	%r11, A_R11(%rdi)
	movq	%r12, A_R12(%rdi)
	movq	%r13, A_R13(%rdi)
	movq	%r14, A_R14(%rdi)
	movq	%r15, A_R15(%rdi)
	popq	%rax
	movq	%rax, A_RDI(%rdi)
	popq	%rdi
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	xorl	%eax, %eax
	ret
