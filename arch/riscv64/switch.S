/*
 * The world switch. rv_vcpu_enter(ctx) saves the host's callee-saved
 * registers on the host stack, loads the guest's registers from ctx and
 * srets into VS-mode. Every trap from the guest lands in rv_trap_entry,
 * which saves the guest registers into ctx (found through sscratch) and
 * returns from rv_vcpu_enter as if it were an ordinary function. While
 * Tessera itself runs, sscratch is 0, so a trap with sscratch == 0 is a
 * fault in the hypervisor.
 */
#include "arch/riscv64/arch_types.h"
#include "arch/riscv64/csr.h"

#define HOST_FRAME (14 * 8)

.macro GUEST_SAVE n
	sd	x\n, (\n * 8)(a0)
.endm
.macro GUEST_LOAD n
	ld	x\n, (\n * 8)(a0)
.endm

	.text
	.global rv_vcpu_enter
	.align 2
rv_vcpu_enter:
	addi	sp, sp, -HOST_FRAME
	sd	ra, 0(sp)
	sd	s0, 8(sp)
	sd	s1, 16(sp)
	sd	s2, 24(sp)
	sd	s3, 32(sp)
	sd	s4, 40(sp)
	sd	s5, 48(sp)
	sd	s6, 56(sp)
	sd	s7, 64(sp)
	sd	s8, 72(sp)
	sd	s9, 80(sp)
	sd	s10, 88(sp)
	sd	s11, 96(sp)
	sd	gp, 104(sp)
	sd	sp, VCPU_HOST_SP(a0)
	csrw	CSR_SSCRATCH, a0
	ld	t0, VCPU_PC(a0)
	csrw	CSR_SEPC, t0
	ld	t0, VCPU_HSTATUS(a0)
	csrw	CSR_HSTATUS, t0
	ld	t0, VCPU_SSTATUS(a0)
	csrw	CSR_SSTATUS, t0
	.irp n, 1,2,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	GUEST_LOAD \n
	.endr
	GUEST_LOAD 10
	sret

	.global rv_trap_entry
	.align 4
rv_trap_entry:
	csrrw	a0, CSR_SSCRATCH, a0
	beqz	a0, host_trap
	.irp n, 1,2,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	GUEST_SAVE \n
	.endr
	csrrw	t0, CSR_SSCRATCH, zero
	sd	t0, (10 * 8)(a0)
	csrr	t0, CSR_SEPC
	sd	t0, VCPU_PC(a0)
	csrr	t0, CSR_HSTATUS
	sd	t0, VCPU_HSTATUS(a0)
	csrr	t0, CSR_SSTATUS
	sd	t0, VCPU_SSTATUS(a0)
	ld	sp, VCPU_HOST_SP(a0)
	ld	ra, 0(sp)
	ld	s0, 8(sp)
	ld	s1, 16(sp)
	ld	s2, 24(sp)
	ld	s3, 32(sp)
	ld	s4, 40(sp)
	ld	s5, 48(sp)
	ld	s6, 56(sp)
	ld	s7, 64(sp)
	ld	s8, 72(sp)
	ld	s9, 80(sp)
	ld	s10, 88(sp)
	ld	s11, 96(sp)
	ld	gp, 104(sp)
	addi	sp, sp, HOST_FRAME
	ret

host_trap:
	/* A trap taken in HS-mode itself: a hypervisor bug. Report it. */
	csrrw	a0, CSR_SSCRATCH, a0
	addi	sp, sp, -256
	.irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	sd	x\n, (\n * 8)(sp)
	.endr
	mv	a0, sp
	call	rv_host_trap
1:	wfi
	j	1b

/*
 * uint32_t rv_fetch_guest_half(uint64_t gva, unsigned long *fault)
 * Reads 16 bits of guest instruction memory with HLVX.HU, as the guest
 * would fetch them (VS-stage and G-stage translation, execute permission).
 * A fault is caught by a temporary trap vector and reported in *fault.
 */
	.global rv_fetch_guest_half
	.align 2
rv_fetch_guest_half:
	la	t0, 1f
	csrrw	t1, CSR_STVEC, t0
	li	t2, 0
	.option push
	.option arch, +h
	hlvx.hu	a0, (a0)
	.option pop
	j	2f
	.align 2
1:	li	t2, 1
	li	a0, 0
2:	csrw	CSR_STVEC, t1
	sd	t2, 0(a1)
	ret

/* F/D register file save and restore (Tessera itself never uses FP). */
	.global rv_fp_save
	.global rv_fp_restore
	.option push
	.option arch, +d
rv_fp_save:
	li	t0, SSTATUS_FS
	csrs	CSR_SSTATUS, t0
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	fsd	f\n, (\n * 8)(a0)
	.endr
	frcsr	t1
	sd	t1, (32 * 8)(a0)
	ret
rv_fp_restore:
	li	t0, SSTATUS_FS
	csrs	CSR_SSTATUS, t0
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	fld	f\n, (\n * 8)(a0)
	.endr
	ld	t1, (32 * 8)(a0)
	fscsr	t1
	ret
	.option pop
