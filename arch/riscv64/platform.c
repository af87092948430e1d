/*
 * Boot on a RISC-V machine under OpenSBI: read the host device tree, bring
 * up the console, timer and memory allocator, set up the hypervisor CSRs,
 * and hand over to the core.
 */
#include "arch/riscv64/rv.h"
#include "core/core.h"
#include "core/log.h"
#include "core/palloc.h"
#include "lib/fdt.h"
#include "lib/string.h"

struct rv_platform rv_plat;
extern char _image_start[], _image_end[], _hv_end[];
extern char _guest_images_start[], _guest_images_end[];

static struct fdt host_fdt;

static int find_uart(void)
{
	int len, node = -1;
	const char *path = fdt_getprop(&host_fdt, fdt_path_offset(&host_fdt, "/chosen"),
				       "stdout-path", &len);
	uint64_t base, size;

	if (path && len > 1 && path[0] == '/') {
		char p[64];
		int i;

		for (i = 0; i < len && i < (int)sizeof(p) - 1 && path[i] && path[i] != ':'; i++)
			p[i] = path[i];
		p[i] = '\0';
		node = fdt_path_offset(&host_fdt, p);
	}
	if (node < 0)
		node = fdt_node_by_compatible(&host_fdt, -1, "ns16550a");
	if (node < 0 || fdt_get_reg(&host_fdt, node, 0, &base, &size))
		return -1;
	rv_plat.uart_base = base;
	rv_plat.uart_irq = fdt_getprop_u32(&host_fdt, node, "interrupts", 0);
	return 0;
}

/* The boot hart's cpu node, its ISA string, and its interrupt controller. */
static int find_cpu(const char **isa, uint32_t *intc_phandle)
{
	int cpus = fdt_path_offset(&host_fdt, "/cpus"), depth = 0, node, len;

	if (cpus < 0)
		return -1;
	rv_plat.timebase = fdt_getprop_u32(&host_fdt, cpus, "timebase-frequency", 10000000);
	for (node = fdt_next_node(&host_fdt, cpus, &depth); node >= 0 && depth > 0;
	     node = fdt_next_node(&host_fdt, node, &depth)) {
		uint64_t reg, sz;
		const char *dt = fdt_getprop(&host_fdt, node, "device_type", &len);

		if (depth != 1 || !dt || strcmp(dt, "cpu") != 0)
			continue;
		if (fdt_get_reg(&host_fdt, node, 0, &reg, &sz) || reg != rv_plat.hartid)
			continue;
		*isa = fdt_getprop(&host_fdt, node, "riscv,isa", &len);
		if (!*isa || len < 5 || (*isa)[len - 1] != '\0')
			return -1;
		int d2 = depth;

		for (int c = fdt_next_node(&host_fdt, node, &d2); c >= 0 && d2 > depth;
		     c = fdt_next_node(&host_fdt, c, &d2)) {
			const char *comp = fdt_getprop(&host_fdt, c, "compatible", &len);

			if (comp && fdt_stringlist_contains(comp, len, "riscv,cpu-intc"))
				*intc_phandle = fdt_getprop_u32(&host_fdt, c, "phandle", 0);
		}
		return 0;
	}
	return -1;
}

static bool isa_has_letter(const char *isa, char l)
{
	/* "rv64imafdch_zicsr_..." : single letters run up to the first '_' */
	for (const char *p = isa + 4; *p && *p != '_'; p++)
		if (*p == l)
			return true;
	return false;
}

static bool isa_has_ext(const char *isa, const char *ext)
{
	size_t n = strlen(ext);

	for (const char *p = isa; *p; p++)
		if (*p == '_' && strncmp(p + 1, ext, n) == 0 && (p[1 + n] == '_' || p[1 + n] == '\0'))
			return true;
	return false;
}

/*
 * Unprivileged extensions with no state and no CSR of their own run in
 * VS/VU-mode exactly as on the host, so a VM's riscv,isa lists those the
 * host has (arch_vm_fixup_dtb). Not here: anything needing henvcfg or
 * hypervisor support (Sstc, Svpbmt, Zicbom/Zicboz, Zkr's seed CSR, the
 * vector state), WRS (trapped by hstatus.VTW), and loads/stores the MMIO
 * decoder does not know (Zcb, Zacas).
 */
static const char *const passthrough_ext[] = {
	"zba", "zbb", "zbc", "zbs", "zbkb", "zbkc", "zbkx", "zknd", "zkne", "zknh",
	"zksed", "zksh", "zkt", "zicond", "zihintpause", "zihintntl", "zfh", "zfhmin",
	"zfa",
};

static void guest_extensions(const char *isa)
{
	char *out = rv_plat.guest_ext;
	size_t n = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(passthrough_ext); i++) {
		size_t k = strlen(passthrough_ext[i]);

		if (!isa_has_ext(isa, passthrough_ext[i]) || n + k + 2 > sizeof(rv_plat.guest_ext))
			continue;
		out[n++] = '_';
		memcpy(out + n, passthrough_ext[i], k);
		n += k;
	}
	out[n] = '\0';
}

static void find_plic(uint32_t intc_phandle)
{
	int node = fdt_node_by_compatible(&host_fdt, -1, "riscv,plic0"), len;
	const uint8_t *ie;
	uint64_t base, size;

	if (node < 0)
		node = fdt_node_by_compatible(&host_fdt, -1, "sifive,plic-1.0.0");
	if (node < 0 || fdt_get_reg(&host_fdt, node, 0, &base, &size))
		return;
	ie = fdt_getprop(&host_fdt, node, "interrupts-extended", &len);
	/* pairs <phandle irq>: the index of <our intc, 9 (S external)> is our context */
	for (int i = 0; ie && (i + 1) * 8 <= len; i++) {
		if (fdt32_ld(ie + 8 * i) == intc_phandle && fdt32_ld(ie + 8 * i + 4) == IRQ_S_EXT) {
			rv_plat.plic_base = base;
			rv_plat.plic_ctx = (uint32_t)i;
			return;
		}
	}
}

static void setup_memory(void *fdt_blob)
{
	int depth = 0, node;
	uint64_t base, size;

	for (node = fdt_next_node(&host_fdt, -1, &depth); node >= 0;
	     node = fdt_next_node(&host_fdt, node, &depth)) {
		int len;
		const char *dt = fdt_getprop(&host_fdt, node, "device_type", &len);

		if (!dt || strcmp(dt, "memory") != 0)
			continue;
		for (int i = 0; fdt_get_reg(&host_fdt, node, i, &base, &size) == 0; i++)
			palloc_add(base, size);
	}
	/* Firmware below us, /reserved-memory, the FDT and our own image. */
	int rsv = fdt_path_offset(&host_fdt, "/reserved-memory");

	if (rsv >= 0) {
		int d = 0;

		depth = 0;
		for (node = fdt_next_node(&host_fdt, rsv, &d); node >= 0 && d > 0;
		     node = fdt_next_node(&host_fdt, node, &d))
			for (int i = 0; fdt_get_reg(&host_fdt, node, i, &base, &size) == 0; i++)
				palloc_reserve(base, size);
	}
	palloc_reserve(0, (uint64_t)(uintptr_t)_hv_end);       /* firmware + Tessera */
	palloc_reserve((uint64_t)(uintptr_t)_guest_images_start,
		       (uint64_t)(uintptr_t)(_image_end - _guest_images_start));
	palloc_reserve((uint64_t)(uintptr_t)fdt_blob, host_fdt.size);
}

static void setup_hypervisor_csrs(void)
{
	unsigned long vmid;

	csr_write(CSR_HEDELEG, 1UL << EXC_INST_MISALIGNED | 1UL << EXC_ILLEGAL_INST |
		  1UL << EXC_BREAKPOINT | 1UL << EXC_LOAD_MISALIGNED |
		  1UL << EXC_STORE_MISALIGNED | 1UL << EXC_ECALL_U |
		  1UL << EXC_INST_PAGE_FAULT | 1UL << EXC_LOAD_PAGE_FAULT |
		  1UL << EXC_STORE_PAGE_FAULT);
	csr_write(CSR_HIDELEG, MIP_VSSIP | MIP_VSTIP | MIP_VSEIP);
	csr_write(CSR_HIE, 0);
	csr_write(CSR_HGEIE, 0);
	csr_write(CSR_HVIP, 0);
	csr_write(CSR_HCOUNTEREN, HCOUNTEREN_CY_TM_IR);
	csr_write(CSR_HENVCFG, 0);     /* guests get no Sstc: see vcpu.c */
	/* How many VMID bits the hart has: write all ones, read back. */
	csr_write(CSR_HGATP, HGATP_VMID_MASK);
	vmid = (csr_read(CSR_HGATP) & HGATP_VMID_MASK) >> HGATP_VMID_SHIFT;
	csr_write(CSR_HGATP, 0);
	while (vmid) {
		rv_plat.vmid_bits++;
		vmid >>= 1;
	}
	__asm__ volatile(".option push\n.option arch, +h\nhfence.gvma zero, zero\n.option pop" ::: "memory");
	csr_write(CSR_STVEC, (unsigned long)rv_trap_entry);
	csr_write(CSR_SIE, MIP_STIP | MIP_SEIP);
}

void rv_host_trap(const uint64_t *regs);
void rv_host_trap(const uint64_t *regs)
{
	panic("trap in the hypervisor: scause 0x%lx sepc 0x%lx stval 0x%lx ra 0x%llx sp 0x%llx",
	      csr_read(CSR_SCAUSE), csr_read(CSR_SEPC), csr_read(CSR_STVAL),
	      (unsigned long long)regs[1], (unsigned long long)regs[2] + 256);
}

void rv_boot(unsigned long hartid, void *fdt_blob);
void rv_boot(unsigned long hartid, void *fdt_blob)
{
	const char *isa = NULL;
	uint32_t intc = 0;

	rv_plat.hartid = hartid;
	if (fdt_init(&host_fdt, fdt_blob, 1 << 20) || find_uart())
		arch_poweroff(true);            /* no console: nothing to say it with */
	rv_uart_init(rv_plat.uart_base);
	pr_info("booting on hart %lu, device tree at %p", hartid, fdt_blob);
	if (find_cpu(&isa, &intc)) {
		pr_err("hart %lu has no usable cpu node in the device tree; stopping", hartid);
		arch_poweroff(true);
	}
	if (!isa_has_letter(isa, 'h')) {
		pr_err("this hart has no H extension (riscv,isa = \"%s\"): "
		       "Tessera needs it to run VMs; stopping", isa);
		arch_poweroff(true);
	}
	rv_plat.has_sstc = isa_has_ext(isa, "sstc");
	guest_extensions(isa);
	find_plic(intc);
	setup_memory(fdt_blob);
	setup_hypervisor_csrs();
	rv_plic_init();
	pr_info("H extension present; Sstc %s; %u VMID bits; timebase %llu Hz; "
		"Tessera %p-%p, guest images %p-%p",
		rv_plat.has_sstc ? "yes" : "no (SBI timer)", rv_plat.vmid_bits,
		(unsigned long long)rv_plat.timebase, _image_start, _hv_end,
		_guest_images_start, _image_end);
	pr_info("host extensions VMs get too: %s", rv_plat.guest_ext[0] ? rv_plat.guest_ext + 1 :
		"none");
	palloc_dump();
	core_main();
}

__attribute__((noreturn)) void arch_poweroff(bool failure)
{
	/* SRST shutdown; "system failure" makes QEMU exit non-zero. */
	rv_sbi_call(0x53525354, 0, 0, failure ? 1 : 0, 0);
	rv_sbi_call(0x08, 0, 0, 0, 0);         /* legacy shutdown */
	for (;;)
		__asm__ volatile("wfi");
}

__attribute__((noreturn)) void arch_reboot(void)
{
	rv_sbi_call(0x53525354, 0, 1, 0, 0);
	arch_poweroff(true);
}
