/*
 * Entry points of Tessera's riscv64 test guests.
 *
 *   _start      boot hart: a0 = hartid, a1 = FDT (guest-physical), S-mode, MMU off.
 *               Sets tp = hartid, sp = this hart's stack, stvec, clears .bss,
 *               calls rt_init(hartid, fdt) then gmain(hartid, fdt); shuts the
 *               VM down if gmain returns.
 *   _secondary  target of SBI HSM hart_start / non-retentive resume:
 *               a0 = hartid, a1 = opaque. Sets tp, sp, stvec and calls
 *               gsecondary(hartid, opaque); stops the hart if that returns.
 *
 * tp holds the hart id for the whole life of a hart (rt_hartid()).
 * Stacks: RT_MAX_HARTS x RT_STACK_SIZE in section .stack, indexed by hart id.
 * No gp relaxation: __global_pointer$ is deliberately not defined.
 */
#include "rt_conf.h"

    .section .text.start, "ax"
    .globl _start
_start:
    csrw    sie, zero
    csrci   sstatus, 2                /* SIE off */
    mv      tp, a0
    li      t0, RT_MAX_HARTS
    bgeu    a0, t0, .Lpark
    la      t0, __stacks_start
    addi    t1, a0, 1
    slli    t1, t1, RT_STACK_SHIFT
    add     sp, t0, t1
    la      t0, rt_trap_vector
    csrw    stvec, t0

    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    mv      s0, a0
    mv      s1, a1
    call    rt_init
    mv      a0, s0
    mv      a1, s1
    call    gmain
    call    rt_shutdown
.Lpark:
    wfi
    j       .Lpark

    .text
    .globl _secondary
    .balign 4
_secondary:
    csrw    sie, zero
    csrci   sstatus, 2
    mv      tp, a0
    li      t0, RT_MAX_HARTS
    bgeu    a0, t0, .Lpark2
    la      t0, __stacks_start
    addi    t1, a0, 1
    slli    t1, t1, RT_STACK_SHIFT
    add     sp, t0, t1
    la      t0, rt_trap_vector
    csrw    stvec, t0
    call    gsecondary
    call    rt_hart_stop
.Lpark2:
    wfi
    j       .Lpark2

    .section .stack, "aw", @nobits
    .balign 16
    .globl rt_stacks
rt_stacks:
    .space  RT_MAX_HARTS << RT_STACK_SHIFT
