/*
 * S-mode trap vector (direct mode). Saves every GPR plus sepc/sstatus/scause/
 * stval into a struct trap_frame on the current stack, calls
 * rt_trap_dispatch(frame), then restores sepc/sstatus (a handler may change
 * them, e.g. to skip an instruction) and all GPRs, and returns with sret.
 */
#define FRAME_SIZE  (36 * 8)
#define F_SEPC      (32 * 8)
#define F_SSTATUS   (33 * 8)
#define F_SCAUSE    (34 * 8)
#define F_STVAL     (35 * 8)

    .text
    .globl rt_trap_vector
    .balign 4
rt_trap_vector:
    addi    sp, sp, -FRAME_SIZE
    sd      x1, 1*8(sp)
    .irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd      x\n, \n*8(sp)
    .endr
    addi    t0, sp, FRAME_SIZE
    sd      t0, 2*8(sp)
    csrr    t0, sepc
    sd      t0, F_SEPC(sp)
    csrr    t0, sstatus
    sd      t0, F_SSTATUS(sp)
    csrr    t0, scause
    sd      t0, F_SCAUSE(sp)
    csrr    t0, stval
    sd      t0, F_STVAL(sp)

    mv      a0, sp
    call    rt_trap_dispatch

    ld      t0, F_SEPC(sp)
    csrw    sepc, t0
    ld      t0, F_SSTATUS(sp)
    csrw    sstatus, t0
    ld      x1, 1*8(sp)
    .irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      x\n, \n*8(sp)
    .endr
    addi    sp, sp, FRAME_SIZE
    sret
