/*
 * The world switch. rv_vcpu_enter(ctx) saves ra and s0 (the frame pointer)
 * on the host stack, loads the guest's registers from ctx and srets into
 * VS-mode. Every trap from the guest lands in rv_trap_entry, which saves
 * the guest registers into ctx (found through sscratch) and returns from
 * rv_vcpu_enter as if it were a function that preserves only sp, ra and
 * s0: its one caller (vcpu_enter in vcpu.c, inline assembly) declares every
 * other register clobbered, so arch_vcpu_run saves just the callee-saved
 * registers it uses, once per call, instead of all of them on every entry.
 * While Tessera itself runs, sscratch is 0, so a trap with sscratch == 0
 * is a fault in the hypervisor.
 */
#include "arch/riscv64/arch_types.h"
#include "arch/riscv64/csr.h"

/* rv_vcpu_enter's frame: ra, s0, and the context pointer (FRAME_CTX),
 * which the light path reloads after its C call. */
#define HOST_FRAME (4 * 8)
#define FRAME_CTX  (2 * 8)

.macro GUEST_SAVE n
	sd	x\n, (\n * 8)(a0)
.endm
.macro GUEST_LOAD n
	ld	x\n, (\n * 8)(a0)
.endm

/* Back into the guest from the light path (a0: the context). */
.macro LIGHT_RET
	csrw	CSR_SSCRATCH, a0
	.irp n, 1,2,5,6,7,11,12,13,14,15,16,17,28,29,30,31
	GUEST_LOAD \n
	.endr
	GUEST_LOAD 10
	sret
.endm

	.text
	.global rv_vcpu_enter
	.align 2
rv_vcpu_enter:
	addi	sp, sp, -HOST_FRAME
	sd	ra, 0(sp)
	sd	s0, 8(sp)
	sd	a0, FRAME_CTX(sp)
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
	/* What C may clobber first, and the trap state. Tessera's C never
	 * touches gp and tp (no relaxation, no TLS): the guest's stay in
	 * place on the light path, and only the full path saves them. */
	.irp n, 1,2,5,6,7,11,12,13,14,15,16,17,28,29,30,31
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
	/* SBI calls, virtual-instruction traps and MMIO: the light path. */
	csrr	t0, CSR_SCAUSE
	bltz	t0, full                /* interrupts */
	addi	t1, t0, -EXC_ECALL_VS
	beqz	t1, light_ecall
	addi	t1, t0, -EXC_VIRTUAL_INST
	beqz	t1, light_vinsn
	addi	t1, t0, -EXC_LOAD_GUEST_PF
	beqz	t1, light_load
	addi	t1, t0, -EXC_STORE_GUEST_PF
	beqz	t1, light_store
full:
	/* The guest's gp, tp and s0-s11 are still in place (C preserved
	 * them). */
	.irp n, 3,4,8,9,18,19,20,21,22,23,24,25,26,27
	GUEST_SAVE \n
	.endr
	ld	sp, VCPU_HOST_SP(a0)
	ld	ra, 0(sp)
	ld	s0, 8(sp)
	addi	sp, sp, HOST_FRAME
	ret

	/*
	 * The light path: rv_light_ecall/_vinsn/_load/_store(ctx) runs on
	 * the host stack below rv_vcpu_enter's frame, with the guest's gp,
	 * tp and s0-s11 live in their registers (C preserves them; a handler
	 * that must write one declines). 0: sret straight back; else take
	 * the full path back into arch_vcpu_run.
	 *
	 * SBI and virtual-instruction handlers may change the pc, hstatus
	 * and sstatus (an exception injected into the guest): they are
	 * written back from the context. The MMIO handlers write sepc
	 * themselves and never touch hstatus or sstatus, which are still
	 * the trap's.
	 */
light_ecall:
	ld	sp, VCPU_HOST_SP(a0)
	jal	rv_light_ecall
light_state:
	bnez	a0, light_full
	ld	a0, FRAME_CTX(sp)
	ld	t0, VCPU_PC(a0)
	csrw	CSR_SEPC, t0
	ld	t0, VCPU_HSTATUS(a0)
	csrw	CSR_HSTATUS, t0
	ld	t0, VCPU_SSTATUS(a0)
	csrw	CSR_SSTATUS, t0
	LIGHT_RET
light_vinsn:
	ld	sp, VCPU_HOST_SP(a0)
	jal	rv_light_vinsn
	j	light_state
light_load:
	ld	sp, VCPU_HOST_SP(a0)
	jal	rv_light_load
	bnez	a0, light_full
	ld	a0, FRAME_CTX(sp)
	LIGHT_RET
light_store:
	ld	sp, VCPU_HOST_SP(a0)
	jal	rv_light_store
	bnez	a0, light_full
	ld	a0, FRAME_CTX(sp)
	LIGHT_RET
light_full:
	ld	a0, FRAME_CTX(sp)
	j	full

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
 * uint32_t rv_fetch_guest_insn(uint64_t gva, unsigned long *fault)
 * Reads the guest instruction at gva with HLVX, as the guest would fetch
 * it (VS-stage and G-stage translation, execute permission): one HLVX.WU
 * at a 4-byte aligned pc (the word cannot cross a page), else one or two
 * HLVX.HU. A compressed instruction comes back zero-extended from 16 bits.
 * A fault is caught by a temporary trap vector and reported in *fault.
 */
	.global rv_fetch_guest_insn
	.align 2
rv_fetch_guest_insn:
	la	t0, 9f
	csrrw	t1, CSR_STVEC, t0
	li	t3, 3
	andi	t2, a0, 3
	.option push
	.option arch, +h
	bnez	t2, 1f
	hlvx.wu	a2, (a0)
	and	t2, a2, t3
	beq	t2, t3, 3f
	slli	a2, a2, 48
	srli	a2, a2, 48
	j	3f
1:	hlvx.hu	a2, (a0)
	and	t2, a2, t3
	bne	t2, t3, 3f
	addi	a0, a0, 2
	hlvx.hu	t4, (a0)
	slli	t4, t4, 16
	or	a2, a2, t4
	.option pop
3:	csrw	CSR_STVEC, t1
	sd	zero, 0(a1)
	mv	a0, a2
	ret
	.align 2
9:	csrw	CSR_STVEC, t1
	li	t2, 1
	sd	t2, 0(a1)
	li	a0, 0
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
