/* Boot entry from OpenSBI: a0 = hart id, a1 = FDT. One hart runs Tessera;
 * any other hart that arrives parks itself. */
#define STACK_SIZE 16384

	.section .text.entry, "ax"
	.global _start
_start:
	/* Only the first hart to arrive boots. */
	la	t0, boot_lottery
	li	t1, 1
	amoswap.w t1, t1, (t0)
	bnez	t1, park
	csrw	sie, zero
	csrw	sscratch, zero
	/* Clear .bss (keeps a0/a1). */
	la	t0, _bss_start
	la	t1, _bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, (t0)
	addi	t0, t0, 8
	j	1b
2:	la	sp, boot_stack_top
	/* Stack canary at the bottom of the stack (checked by rv_stack_check). */
	la	t0, boot_stack
	li	t1, 0x5445535345524121
	sd	t1, (t0)
	call	rv_boot
park:
	wfi
	j	park

	.section .data
	.align 2
boot_lottery:
	.word	0

	.section .bss
	.align 12
	.global boot_stack
boot_stack:
	.space	STACK_SIZE
	.global boot_stack_top
boot_stack_top:
