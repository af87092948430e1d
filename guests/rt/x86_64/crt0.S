/*
 * Entry of Tessera's x86_64 test guests (the x86 guest ABI, docs/guests.md).
 *
 *   _start   first byte of the image, loaded at 0x100000. vCPU 0 arrives in
 *            32-bit flat protected mode (paging off, interrupts off, CR4 = 0,
 *            EFER = 0) with EAX = 0x54455353 ("TESS"), EBX = guest-physical
 *            address of the boot info, ESI = vCPU id; no stack.
 *
 * What it does, in 32-bit mode: takes the stack of vCPU ESI (RT_MAX_CPUS x
 * RT_STACK_SIZE in .stack, after .bss), clears .bss, builds identity page
 * tables in .bss (4 GiB with 2 MiB pages, the top GiB uncached for MMIO;
 * 4..512 GiB with 1 GiB uncached pages when CPUID says the CPU has them),
 * enables PAE, EFER.LME and paging, loads its own GDT and far-jumps to
 * 64-bit code. In 64-bit mode: flat data segments, SSE on (CR0.EM = 0,
 * MP = 1, CR4.OSFXSR/OSXMMEXCPT), fninit, then
 *     rt_init(vcpu, magic, bootinfo); gmain(vcpu, magic ok ? bootinfo : 0);
 *     rt_shutdown();
 * The C code installs the IDT (rt_init).
 *
 * vCPUs other than 0 (which Tessera does not start at this entry today) and
 * ids >= RT_MAX_CPUS park in cli; hlt.
 */
#include "rt_conf.h"

#define CR0_MP          (1 << 1)
#define CR0_EM          (1 << 2)
#define CR0_NE          (1 << 5)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define CR4_OSFXSR      (1 << 9)
#define CR4_OSXMMEXCPT  (1 << 10)
#define MSR_EFER        0xc0000080
#define EFER_LME        (1 << 8)

#define PTE_P           0x001
#define PTE_RW          0x002
#define PTE_PWT         0x008
#define PTE_PCD         0x010
#define PTE_PS          0x080

    .section .text.start, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    cmp     $RT_MAX_CPUS, %esi
    jae     .Lpark32
    test    %esi, %esi
    jnz     .Lpark32

    /* stack of vCPU esi: __stacks_start + (esi + 1) * RT_STACK_SIZE */
    lea     1(%esi), %ecx
    shl     $RT_STACK_SHIFT, %ecx
    lea     __stacks_start(%ecx), %esp
    push    %ebx                        /* 8(%esp): boot info */
    push    %eax                        /* 4(%esp): magic */
    push    %esi                        /* 0(%esp): vCPU id */

    /* clear .bss (16-byte aligned bounds) */
    mov     $__bss_start, %edi
    mov     $__bss_end, %ecx
    sub     %edi, %ecx
    shr     $2, %ecx
    xor     %eax, %eax
    rep stosl

    /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3 */
    mov     $rt_pdpt + PTE_P + PTE_RW, %eax
    mov     %eax, rt_pml4
    mov     $rt_pd + PTE_P + PTE_RW, %eax
    xor     %ecx, %ecx
1:  mov     %eax, rt_pdpt(,%ecx,8)
    add     $0x1000, %eax
    inc     %ecx
    cmp     $4, %ecx
    jb      1b

    /* 2048 x 2 MiB identity pages for 0..4 GiB; 3..4 GiB (MMIO) uncached */
    xor     %ecx, %ecx
2:  mov     %ecx, %eax
    shl     $21, %eax
    or      $PTE_P + PTE_RW + PTE_PS, %eax
    cmp     $1536, %ecx
    jb      3f
    or      $PTE_PCD + PTE_PWT, %eax
3:  mov     %eax, rt_pd(,%ecx,8)
    inc     %ecx
    cmp     $2048, %ecx
    jb      2b

    /* 4..512 GiB with 1 GiB pages (uncached) if CPUID 0x80000001 EDX.26 */
    mov     $0x80000000, %eax
    cpuid
    cmp     $0x80000001, %eax
    jb      5f
    mov     $0x80000001, %eax
    cpuid
    bt      $26, %edx
    jnc     5f
    mov     $4, %ecx
4:  mov     %ecx, %eax
    shl     $30, %eax                   /* low half: (i & 3) << 30 */
    or      $PTE_P + PTE_RW + PTE_PS + PTE_PCD + PTE_PWT, %eax
    mov     %eax, rt_pdpt(,%ecx,8)
    mov     %ecx, %eax
    shr     $2, %eax                    /* high half: i >> 2 */
    mov     %eax, rt_pdpt + 4(,%ecx,8)
    inc     %ecx
    cmp     $512, %ecx
    jb      4b
5:
    /* long mode: CR3, CR4.PAE (+ SSE bits), EFER.LME, CR0.PG */
    mov     $rt_pml4, %eax
    mov     %eax, %cr3
    mov     %cr4, %eax
    or      $CR4_PAE + CR4_OSFXSR + CR4_OSXMMEXCPT, %eax
    mov     %eax, %cr4
    mov     $MSR_EFER, %ecx
    mov     $EFER_LME, %eax
    xor     %edx, %edx
    wrmsr
    mov     %cr0, %eax
    and     $~CR0_EM, %eax
    or      $CR0_PG + CR0_NE + CR0_MP, %eax
    mov     %eax, %cr0
    lgdt    rt_gdt_desc
    ljmp    $RT_GDT_CODE64, $.Lstart64

.Lpark32:
    cli
    hlt
    jmp     .Lpark32

    .code64
.Lstart64:
    mov     $RT_GDT_DATA, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     %eax, %fs
    mov     %eax, %gs
    mov     %esp, %esp                  /* zero-extend into rsp */
    movl    0(%rsp), %r12d              /* vCPU id */
    movl    4(%rsp), %r13d              /* magic */
    movl    8(%rsp), %r14d              /* boot info */
    /* a fresh, 16-byte aligned stack top for the C code */
    lea     1(%r12), %rax
    shl     $RT_STACK_SHIFT, %rax
    lea     __stacks_start(%rax), %rsp
    fninit

    mov     %r12, %rdi
    mov     %r13d, %esi
    mov     %r14d, %edx
    call    rt_init
    xor     %esi, %esi
    cmp     $RT_BOOT_MAGIC, %r13d
    cmove   %r14, %rsi
    mov     %r12, %rdi
    call    gmain
    call    rt_shutdown
1:  cli
    hlt
    jmp     1b

/* GDT: null, 64-bit code (0x08), flat data (0x10), 32-bit code (0x18).
 * Accessed bits preset so the CPU never writes to it. */
    .section .rodata.rt_gdt, "a"
    .balign 16
rt_gdt:
    .quad   0
    .quad   0x00af9b000000ffff
    .quad   0x00cf93000000ffff
    .quad   0x00cf9b000000ffff
rt_gdt_end:
    .balign 8
    .globl  rt_gdt_desc
rt_gdt_desc:
    .word   rt_gdt_end - rt_gdt - 1
    .quad   rt_gdt

/* page tables (cleared with .bss before use) */
    .section .bss.rt_pagetables, "aw", @nobits
    .balign 4096
    .globl  rt_pml4, rt_pdpt, rt_pd
rt_pml4:
    .space  4096
rt_pdpt:
    .space  4096
rt_pd:
    .space  4 * 4096

/* per-vCPU stacks, not cleared (crt0 runs on one while clearing .bss) */
    .section .stack, "aw", @nobits
    .balign 16
    .globl rt_stacks
rt_stacks:
    .space  RT_MAX_CPUS << RT_STACK_SHIFT

    .section .note.GNU-stack, "", @progbits
