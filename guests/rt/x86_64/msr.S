/*
 * MSR accesses that survive a #GP (for probing, e.g. x2APIC MSRs before the
 * mode is known to exist):
 *     int rt_rdmsr_safe(uint32_t msr, uint64_t *val);   0, or -1 after #GP
 *     int rt_wrmsr_safe(uint32_t msr, uint64_t val);
 * r11 is the error flag: cleared before the instruction; rt_trap_dispatch
 * (rt.c) recognises a #GP at rt_rdmsr_insn / rt_wrmsr_insn, steps over the
 * 2-byte instruction and sets the saved r11 to -1.
 */
    .code64
    .text
    .globl rt_rdmsr_safe, rt_wrmsr_safe, rt_rdmsr_insn, rt_wrmsr_insn
rt_rdmsr_safe:
    mov     %edi, %ecx
    xor     %eax, %eax
    xor     %edx, %edx
    xor     %r11d, %r11d
rt_rdmsr_insn:
    rdmsr
    test    %r11d, %r11d
    jnz     1f
    shl     $32, %rdx
    mov     %eax, %eax
    or      %rdx, %rax
    mov     %rax, (%rsi)
1:  mov     %r11d, %eax
    ret

rt_wrmsr_safe:
    mov     %edi, %ecx
    mov     %esi, %eax
    mov     %rsi, %rdx
    shr     $32, %rdx
    xor     %r11d, %r11d
rt_wrmsr_insn:
    wrmsr
    mov     %r11d, %eax
    ret

    .section .note.GNU-stack, "", @progbits
