/*
 * 64-bit interrupt and exception entry. rt_isr_stubs holds 256 stubs, stub
 * n at rt_isr_stubs + 16 * n (rt.c points IDT gate n at it). Each pushes a
 * 0 error code where the CPU pushes none, then the vector, and jumps to
 * rt_isr_common, which completes a struct trap_frame (rt.h) on the current
 * stack: GPRs, then CR2. rt_trap_dispatch(frame) runs on a 16-byte aligned
 * stack; whatever it leaves in the frame is restored, and iretq returns
 * through the (possibly changed) rip/cs/rflags/rsp/ss.
 * Same privilege level, no IST: no TSS is needed.
 */
    .code64
    .text
    .balign 16
    .globl rt_isr_stubs
rt_isr_stubs:
    vector = 0
    .rept 256
    .balign 16
    .if vector == 8 || vector == 10 || vector == 11 || vector == 12 || vector == 13 || vector == 14 || vector == 17 || vector == 21 || vector == 29 || vector == 30
    .else
    pushq   $0
    .endif
    pushq   $vector
    jmp     rt_isr_common
    vector = vector + 1
    .endr

    .balign 16
rt_isr_common:
    push    %rax
    push    %rbx
    push    %rcx
    push    %rdx
    push    %rsi
    push    %rdi
    push    %rbp
    push    %r8
    push    %r9
    push    %r10
    push    %r11
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    mov     %cr2, %rax
    push    %rax
    mov     %rsp, %rdi
    mov     %rsp, %rbx                  /* callee-saved: the frame */
    and     $-16, %rsp
    cld
    call    rt_trap_dispatch
    mov     %rbx, %rsp
    add     $8, %rsp                    /* cr2 */
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %r11
    pop     %r10
    pop     %r9
    pop     %r8
    pop     %rbp
    pop     %rdi
    pop     %rsi
    pop     %rdx
    pop     %rcx
    pop     %rbx
    pop     %rax
    add     $16, %rsp                   /* vector, error code */
    iretq

    .section .note.GNU-stack, "", @progbits
