/*
 * Multiboot (v1) entry: GRUB or QEMU -kernel enter here in 32-bit protected
 * mode with EAX = 0x2BADB002 and EBX = the multiboot info. Build page tables
 * that identity-map the first 64 GiB with 1 GiB pages, enter long mode, and
 * call x86_boot(magic, info) on the boot stack.
 *
 * 1 GiB pages (CPUID 8000_0001h EDX bit 26) keep the map at two 4 KiB
 * tables instead of 66. Every CPU Tessera can run on has them: it needs
 * unrestricted guests and EPT (Intel, from Westmere on) or nested paging
 * (AMD, from family 10h on), and both generations brought 1 GiB pages. A
 * CPU without them gets a message on COM1 and a halt instead of a fault.
 */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00000003            /* page-aligned modules, memory map */
#define STACK_SIZE 8192                 /* deepest measured use ~1.1 KiB (shell, Linux SMP, chaos); canary-checked */
#define NGIB      64                    /* identity map: 64 x 1 GiB */
#define COM1      0x3F8

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
	/* 1 GiB pages? (CPUID 8000_0001h EDX bit 26; CPUID leaves EDI, ESI) */
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax
	jb	no_1g
	movl	$0x80000001, %eax
	cpuid
	btl	$26, %edx
	jnc	no_1g
	/* PML4[0] -> PDPT; PDPT[i] -> the i-th GiB, a 1 GiB page */
	movl	$boot_pdpt, %eax
	orl	$0x3, %eax
	movl	%eax, boot_pml4
	xorl	%ecx, %ecx
3:	movl	%ecx, %eax
	shll	$30, %eax                   /* low 32 bits of the address */
	orl	$0x83, %eax                 /* present, writable, 1 GiB (PS) */
	movl	%eax, boot_pdpt(, %ecx, 8)
	movl	%ecx, %eax
	shrl	$2, %eax                    /* high bits: GiB index / 4 */
	movl	%eax, boot_pdpt + 4(, %ecx, 8)
	incl	%ecx
	cmpl	$NGIB, %ecx
	jb	3b
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

	.code32
	/* no 1 GiB pages: say so on COM1 (polled, 8n1 as left by firmware) */
no_1g:
	movl	$no_1g_msg, %esi
6:	movb	(%esi), %al
	testb	%al, %al
	jz	8f
	movb	%al, %bl
	movw	$COM1 + 5, %dx
7:	inb	%dx, %al                    /* LSR: wait for THR empty */
	testb	$0x20, %al
	jz	7b
	movw	$COM1, %dx
	movb	%bl, %al
	outb	%al, %dx
	incl	%esi
	jmp	6b
8:	movb	$0x01, %al                  /* QEMU isa-debug-exit: failure */
	outb	%al, $0xF4
	cli
	hlt
	jmp	8b

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
no_1g_msg:
	.asciz	"tessera: this CPU has no 1 GiB pages (CPUID 80000001h EDX bit 26); Tessera needs them (and EPT or nested paging)\r\n"

	/* first in .bss (tessera.ld): page-aligned without padding */
	.section .bss.page_tables, "aw", @nobits
	.align 4096
boot_pml4:	.space 4096
boot_pdpt:	.space 4096
	.section .bss
	.align 16
	.global boot_stack
boot_stack:	.space STACK_SIZE
	.global boot_stack_top
boot_stack_top:
