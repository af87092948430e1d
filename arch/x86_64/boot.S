/*
 * Multiboot (v1) entry: GRUB or QEMU -kernel enter here in 32-bit protected
 * mode with EAX = 0x2BADB002 and EBX = the multiboot info. Build page tables
 * that identity-map the first 64 GiB with 2 MiB pages, enter long mode, and
 * call x86_boot(magic, info) on the boot stack.
 */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00000003            /* page-aligned modules, memory map */
#define STACK_SIZE 16384
#define NPD       64                    /* page directories: 64 x 1 GiB */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .text.entry, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	movl	%eax, %edi                  /* multiboot magic */
	movl	%ebx, %esi                  /* multiboot info */
	/* clear .bss (page tables and stack live there) */
	movl	$_bss_start, %ecx
	movl	$_bss_end, %edx
1:	cmpl	%edx, %ecx
	jae	2f
	movl	$0, (%ecx)
	addl	$4, %ecx
	jmp	1b
2:	movl	$boot_stack_top, %esp
	/* PML4[0] -> PDPT; PDPT[i] -> PD i; PD entries: 2 MiB pages */
	movl	$boot_pdpt, %eax
	orl	$0x3, %eax
	movl	%eax, boot_pml4
	xorl	%ecx, %ecx
3:	movl	%ecx, %eax
	shll	$12, %eax
	addl	$boot_pd, %eax
	orl	$0x3, %eax
	movl	%eax, boot_pdpt(, %ecx, 8)
	incl	%ecx
	cmpl	$NPD, %ecx
	jb	3b
	xorl	%ecx, %ecx                  /* entry index over all PDs */
4:	movl	%ecx, %eax
	shll	$21, %eax                   /* low 32 bits of the address */
	orl	$0x83, %eax                 /* present, writable, 2 MiB */
	movl	%eax, boot_pd(, %ecx, 8)
	movl	%ecx, %eax
	shrl	$11, %eax                   /* high bits: index / 2048 */
	movl	%eax, boot_pd + 4(, %ecx, 8)
	incl	%ecx
	cmpl	$(NPD * 512), %ecx
	jb	4b
	/* long mode */
	movl	$boot_pml4, %eax
	movl	%eax, %cr3
	movl	%cr4, %eax
	orl	$0x620, %eax                /* PAE, OSFXSR, OSXMMEXCPT */
	movl	%eax, %cr4
	movl	$0xC0000080, %ecx
	rdmsr
	orl	$0x900, %eax                /* LME, NXE */
	wrmsr
	movl	%cr0, %eax
	orl	$0x80010023, %eax           /* PG, WP, NE, MP, PE */
	andl	$~0x0000000C, %eax          /* no EM, no TS */
	movl	%eax, %cr0
	lgdt	gdt_ptr
	ljmp	$0x08, $long_entry

	.code64
long_entry:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorw	%ax, %ax
	movw	%ax, %fs
	movw	%ax, %gs
	movabsq	$boot_stack_top, %rsp
	movabsq	$boot_stack, %rax
	movabsq	$0x5445535345524121, %rcx   /* stack canary, see x86_stack_check */
	movq	%rcx, (%rax)
	call	x86_boot
5:	cli
	hlt
	jmp	5b

	.section .rodata
	.align 16
	.global gdt
gdt:
	.quad	0
	.quad	0x00AF9A000000FFFF          /* 0x08: 64-bit code */
	.quad	0x00CF92000000FFFF          /* 0x10: data */
gdt_end:
	.global gdt_ptr
gdt_ptr:
	.word	gdt_end - gdt - 1
	.quad	gdt

	.section .bss
	.align 4096
boot_pml4:	.space 4096
boot_pdpt:	.space 4096
boot_pd:	.space 4096 * NPD
	.global boot_stack
boot_stack:	.space STACK_SIZE
	.global boot_stack_top
boot_stack_top:
