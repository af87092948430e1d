/* Internal interfaces of the RISC-V back end. */
#ifndef TESSERA_ARCH_RISCV64_RV_H
#define TESSERA_ARCH_RISCV64_RV_H

#include "core/vm.h"
#include "arch/riscv64/csr.h"
#include "core/log.h"

struct rv_platform {
	uint64_t timebase;              /* ticks of `time` per second */
	bool has_sstc;
	unsigned vmid_bits;
	uint64_t uart_base;
	uint64_t plic_base;
	uint32_t plic_ctx;              /* S-mode context of the boot hart */
	uint32_t uart_irq;
	unsigned long hartid;
	/* the host's extensions that VMs get too ("_zba_zbb..."): see
	 * guest_extensions in platform.c */
	char guest_ext[128];
};
extern struct rv_platform rv_plat;

/* switch.S (rv_vcpu_enter is called only through vcpu_enter in vcpu.c) */
void rv_trap_entry(void);
uint32_t rv_fetch_guest_insn(uint64_t gva, unsigned long *fault);
void rv_fp_save(uint64_t *fpr);
void rv_fp_restore(const uint64_t *fpr);

/* sbi.c: handle an ecall from VS-mode. Returns true when the core must see
 * the exit in *e, false to re-enter the guest at once. */
bool rv_sbi_ecall(struct vcpu *v, struct vm_exit *e);
/* SBI calls made by Tessera itself to the firmware. */
struct sbiret { long error; long value; };
struct sbiret rv_sbi_call(unsigned long eid, unsigned long fid, unsigned long a0,
			  unsigned long a1, unsigned long a2);

/* The light exit path (switch.S, vcpu.c): the SBI entry in sbi.c ends in
 * rv_light_done; the exit for the core, if any, goes to *rv_light_exit_e. */
unsigned long rv_light_ecall(struct vcpu *v);
unsigned long rv_light_done(struct vcpu *v, bool out, uint64_t cmp, uint64_t hvip);
extern struct vm_exit *rv_light_exit_e;

/* vcpu.c helpers the SBI code uses on the running vCPU. */
void rv_vcpu_set_timer(struct vcpu *v, uint64_t guest_deadline);
void rv_vcpu_local_vvma_flush(void);
bool rv_vcpu_timer_pending(struct vcpu *v);
/* Continue the (loaded) vCPU at pc in S-mode with a0/a1 set, MMU and
 * interrupts off: SBI HSM's non-retentive resume. */
void rv_vcpu_resume_at(struct vcpu *v, uint64_t pc, uint64_t a0, uint64_t a1);
/* WFI-like wait: true (and *e filled) when the vCPU must block. */
bool rv_vcpu_halt(struct vcpu *v, struct vm_exit *e);

/* hostdev.c: the host's own UART and PLIC. */
void rv_uart_init(uint64_t base);
void rv_uart_putc(char c);
int rv_uart_getc(void);
void rv_plic_init(void);
void rv_host_irq(void);

/* The boot stack's lowest word holds a canary (entry.S); an overflow that
 * reached it is reported instead of silently corrupting .bss. */
#define RV_STACK_CANARY 0x5445535345524121ULL
extern uint64_t boot_stack[];
static inline void rv_stack_check(void)
{
	if (unlikely(boot_stack[0] != RV_STACK_CANARY))
		panic("hypervisor stack overflow (canary at %p overwritten)", (void *)boot_stack);
}

static inline uint64_t rv_now(void)
{
	return csr_read(CSR_TIME);
}

#define SBI_EXT_TESSERA 0x0A545353UL

#endif
