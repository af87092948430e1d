#include "core/vm.h"
#include "core/log.h"
#include "core/core.h"
#include "core/palloc.h"
#include "core/sched.h"
#include "lib/printf.h"
#include "lib/string.h"

struct vm *vms;
unsigned nvms;
uint64_t vm_share_window;

static const char *const policy_name[] = {
	[CFG_POLICY_STOP] = "stop",
	[CFG_POLICY_RESTART] = "restart",
	[CFG_POLICY_HALT_ALL] = "halt-all",
};

#ifndef ARCH_LAZY_RAM
#define ARCH_LAZY_RAM 0
#endif

static struct vm_region *region_of(struct vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < vm->nregions; i++) {
		struct vm_region *r = &vm->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return &vm->regions[i];
	}
	return NULL;
}

/*
 * Lazy RAM. Clearing all of a VM's RAM at build touches every page of it
 * before the guest runs; under an emulator that is the host faulting in
 * the whole region (128 MiB for Linux: ~0.4 s of QEMU's time), most of it
 * memory the guest may never use. A lazy region's chunks are instead
 * unmapped until first touched: then the chunk is cleared, the parts of
 * the VM's images that fall in it are copied in, and it is mapped. The
 * guest never sees memory Tessera did not clear or load.
 */
static void fill_chunk(struct vm *vm, struct vm_region *r, unsigned k)
{
	const struct cfg_vm *c = vm->cfg;
	uint64_t off = k * r->chunk, len = min_u64(r->chunk, r->size - off);
	uint64_t lo = r->gpa + off, hi = lo + len;

	memset((void *)(uintptr_t)(r->hpa + off), 0, len);
	for (unsigned i = 0; i < c->nimages; i++) {
		const struct cfg_image *im = &c->images[i];
		uint64_t a = im->gpa > lo ? im->gpa : lo, b = min_u64(im->gpa + im->size, hi);

		if (a < b)
			memcpy((void *)(uintptr_t)(r->hpa + (a - r->gpa)),
			       (const uint8_t *)im->data + (a - im->gpa), b - a);
	}
}

static int populate(struct vm *vm, struct vm_region *r, unsigned k)
{
	uint64_t off = k * r->chunk, len = min_u64(r->chunk, r->size - off);

	fill_chunk(vm, r, k);
	if (arch_vm_map(vm, r->gpa + off, r->hpa + off, len)) {
		pr_err("vm %s: cannot map RAM at 0x%llx: out of memory for stage-2 tables",
		       vm->cfg->name, (unsigned long long)(r->gpa + off));
		return -1;
	}
	r->populated |= 1ULL << k;
	return 0;
}

/* Chunks of [off, off+len) (inside r) not populated yet: populate them. */
static int populate_range(struct vm *vm, struct vm_region *r, uint64_t off, uint64_t len)
{
	unsigned k0 = (unsigned)(off / r->chunk), k1 = (unsigned)((off + (len ? len - 1 : 0)) / r->chunk);

	for (unsigned k = k0; k <= k1; k++)
		if (!(r->populated >> k & 1) && populate(vm, r, k))
			return -1;
	return 0;
}

void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	struct vm_region *r = region_of(vm, gpa);
	uint64_t off;

	if (!r)
		return NULL;
	off = gpa - r->gpa;
	if (len > r->size - off)
		return NULL;
	if (r->chunk && populate_range(vm, r, off, len))
		return NULL;
	return (void *)(uintptr_t)(r->hpa + off);
}

bool vm_ram_fault(struct vm *vm, uint64_t gpa)
{
	struct vm_region *r = region_of(vm, gpa);
	unsigned k;

	if (!r || !r->chunk)
		return false;
	k = (unsigned)((gpa - r->gpa) / r->chunk);
	if (r->populated >> k & 1)
		return false;           /* mapped already: a real fault */
	return populate(vm, r, k) == 0;
}

/* PLIC context i drives vCPU i's external interrupt. */
static void plic_out(void *opaque, unsigned ctx, bool level)
{
	struct vm *vm = opaque;

	if (ctx >= vm->nvcpus)
		return;
	arch_vcpu_set_ext_irq(&vm->vcpus[ctx], level);
	if (level) {
		vm->vcpus[ctx].stats.irqs_injected++;
		vcpu_kick(&vm->vcpus[ctx]);
	}
}

static void uart_tx(void *opaque, uint8_t c)
{
	console_vm_putc(opaque, c);
}

static int build_memory(struct vm *vm)
{
	const struct cfg_vm *c = vm->cfg;

	for (unsigned i = 0; i < c->nregions; i++) {
		const struct cfg_region *cr = &c->regions[i];
		uint64_t hpa, align = PAGE_SIZE;

		bool lazy = ARCH_LAZY_RAM && !cr->phys && cr->size >= LAZY_RAM_MIN;

		if (cr->phys) {
			hpa = cr->phys;         /* claimed by claim_fixed_memory() */
		} else {
			/* Same offset inside a huge page as the GPA, so stage 2
			 * can use 2 MiB / 1 GiB leaves. */
			if (cr->size >= GiB(1) && IS_ALIGNED(cr->gpa, GiB(1)))
				align = GiB(1);
			else if (cr->size >= MiB(2) && IS_ALIGNED(cr->gpa, MiB(2)))
				align = MiB(2);
			hpa = lazy ? palloc_alloc_raw(cr->size, align) : palloc_alloc(cr->size, align);
			if (!hpa) {
				pr_err("vm %s: memory[%u]: out of host memory for 0x%llx bytes",
				       c->name, i, (unsigned long long)cr->size);
				return -1;
			}
		}
		vm->regions[i] = (struct vm_region){ cr->gpa, cr->size, hpa, 0, 0 };
		if (lazy) {
			/* RAM_CHUNKS chunks, each a multiple of 2 MiB */
			vm->regions[i].chunk = ALIGN_UP((cr->size + RAM_CHUNKS - 1) / RAM_CHUNKS, MiB(2));
		} else if (arch_vm_map(vm, cr->gpa, hpa, cr->size)) {
			pr_err("vm %s: memory[%u]: cannot build stage-2 tables", c->name, i);
			return -1;
		}
		pr_info("vm %s: RAM 0x%llx-0x%llx at host 0x%llx", c->name,
			(unsigned long long)cr->gpa, (unsigned long long)(cr->gpa + cr->size),
			(unsigned long long)hpa);
	}
	vm->nregions = c->nregions;
	return 0;
}

static int build_devices(struct vm *vm)
{
	const struct cfg_vm *c = vm->cfg;
	struct irq_line outs[PLIC_MAX_CONTEXTS];

	/* Interrupt controllers first: the other devices are wired to them. */
	for (unsigned i = 0; i < c->ndevices; i++) {
		if (c->devices[i].type != CFG_DEV_PLIC || !ARCH_HAS_PLIC)
			continue;
		for (unsigned k = 0; k < PLIC_MAX_CONTEXTS; k++)
			outs[k] = (struct irq_line){ plic_out, vm, k };
		vm->plic = &vm->devs[i].plic;
		plic_init(vm->plic, 32, vm->nvcpus, outs);
	}
	for (unsigned i = 0; i < c->ndevices; i++) {
		const struct cfg_device *d = &c->devices[i];
		const struct dev_ops *ops;

		switch (d->type) {
		case CFG_DEV_PLIC:
			if (!ARCH_HAS_PLIC)
				goto unknown;
			ops = &plic_ops;
			break;
		case CFG_DEV_UART16550: {
			struct irq_line irq = d->irq ? arch_vm_irq_line(vm, d->irq) :
						       (struct irq_line){ NULL, NULL, 0 };

			/* On a PC the IRQ reaches the PIC only with MCR.OUT2 set. */
			uart16550_init(&vm->devs[i].uart, irq, uart_tx, vm, d->pio);
			if (!vm->console_uart)
				vm->console_uart = &vm->devs[i].uart;
			ops = &uart16550_ops;
			break;
		}
		case CFG_DEV_PC:
			if (arch_vm_add_platform(vm, d))
				return -1;
			continue;
		default:
		unknown:
			pr_err("vm %s: device[%u]: unknown type %d", c->name, i, d->type);
			return -1;
		}
		if (bus_add(d->pio ? &vm->iobus : &vm->bus, d->base, d->size, ops, &vm->devs[i],
			    d->irq)) {
			pr_err("vm %s: device[%u]: too many devices", c->name, i);
			return -1;
		}
	}
	return 0;
}

/* Fresh RAM with the original images and device tree. */
static int load_images(struct vm *vm)
{
	const struct cfg_vm *c = vm->cfg;
	void *dst;

	for (unsigned i = 0; i < vm->nregions; i++) {
		struct vm_region *r = &vm->regions[i];

		if (!r->chunk)
			memset((void *)(uintptr_t)r->hpa, 0, r->size);
		for (unsigned k = 0; k < RAM_CHUNKS; k++)
			if (r->populated >> k & 1)
				fill_chunk(vm, r, k);   /* a restart: as if never touched */
	}
	for (unsigned i = 0; i < c->nimages; i++) {
		const struct cfg_image *im = &c->images[i];
		const struct vm_region *r = region_of(vm, im->gpa);

		/* a lazy region gets its images chunk by chunk (fill_chunk) */
		dst = r && r->chunk ? NULL : vm_gpa_to_hva(vm, im->gpa, im->size);
		if (r && r->chunk ? im->size > r->size - (im->gpa - r->gpa) : !dst) {
			pr_err("vm %s: image %s does not fit its region", c->name, im->name);
			return -1;
		}
		if (dst)
			memcpy(dst, im->data, im->size);
	}
	if (c->dtb_size) {
		dst = vm_gpa_to_hva(vm, c->dtb_gpa, c->dtb_size);
		if (!dst) {
			pr_err("vm %s: device tree does not fit at 0x%llx", c->name,
			       (unsigned long long)c->dtb_gpa);
			return -1;
		}
		memcpy(dst, c->dtb, c->dtb_size);
		arch_vm_fixup_dtb(vm, dst, c->dtb_size);
	}
	return 0;
}

static int vm_build(struct vm *vm, unsigned id, const struct cfg_vm *c)
{
	memset(vm, 0, sizeof(*vm));
	vm->id = id;
	vm->cfg = c;
	vm->nvcpus = c->vcpus;
	if (vm->nvcpus == 0 || vm->nvcpus > CFG_MAX_VCPUS || c->nregions > CFG_MAX_REGIONS ||
	    c->ndevices > CFG_MAX_DEVICES) {
		pr_err("vm %s: bad limits in the generated config", c->name);
		return -1;
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].id = i;
		vm->vcpus[i].state = VCPU_STOPPED;
		vm->vcpus[i].wake_at = UINT64_MAX;
	}
	if (arch_vm_init(vm)) {
		pr_err("vm %s: cannot set up stage-2 translation", c->name);
		return -1;
	}
	if (build_memory(vm) || build_devices(vm) || load_images(vm))
		return -1;
	return 0;
}

/* Fixed host placements first, before any allocation can land there. */
static int claim_fixed_memory(const struct cfg_system *cfg)
{
	for (unsigned k = 0; k < cfg->nvms; k++) {
		const struct cfg_vm *c = &cfg->vms[k];

		for (unsigned i = 0; i < c->nregions && i < CFG_MAX_REGIONS; i++) {
			const struct cfg_region *cr = &c->regions[i];

			if (cr->phys && palloc_claim(cr->phys, cr->size)) {
				pr_err("vm %s: memory[%u]: host range 0x%llx-0x%llx is not free RAM",
				       c->name, i, (unsigned long long)cr->phys,
				       (unsigned long long)(cr->phys + cr->size));
				return -1;
			}
		}
	}
	return 0;
}

int vm_build_all(const struct cfg_system *cfg)
{
	uint64_t free_before = palloc_free_bytes(), ram = 0, own;

	if (cfg->nvms == 0 || cfg->nvms > CFG_MAX_VMS) {
		pr_err("config %s: %u VMs (1..%u allowed)", cfg->name, cfg->nvms, CFG_MAX_VMS);
		return -1;
	}
	if (claim_fixed_memory(cfg))
		return -1;
	/* Only as many VM structures as the config has, from free RAM (not a
	 * CFG_MAX_VMS array in .bss): palloc hands out zeroed pages. */
	vms = (struct vm *)(uintptr_t)palloc_alloc(sizeof(struct vm) * cfg->nvms, 64);
	if (!vms) {
		pr_err("config %s: no RAM for %u VM structures", cfg->name, cfg->nvms);
		return -1;
	}
	for (unsigned i = 0; i < cfg->nvms; i++) {
		if (vm_build(&vms[i], i, &cfg->vms[i]))
			return -1;
		nvms = i + 1;
		for (unsigned k = 0; k < cfg->vms[i].nregions; k++)
			if (!cfg->vms[i].regions[k].phys)
				ram += ALIGN_UP(cfg->vms[i].regions[k].size, PAGE_SIZE);
	}
	/* What the VMs cost besides their RAM (struct vm, stage-2 tables,
	 * control pages, bitmaps, FP areas), measured on the allocator: lazy
	 * RAM's stage-2 tables grow later, as chunks are touched. */
	own = free_before - palloc_free_bytes() - ram;
	pr_info("%u VM(s) built: %llu KiB of guest RAM, %llu KiB of Tessera's own "
		"(%llu KiB per VM)", nvms, (unsigned long long)(ram >> 10),
		(unsigned long long)(own >> 10), (unsigned long long)(own / nvms >> 10));
	return 0;
}

void vm_start(struct vm *vm)
{
	struct vcpu *v0 = &vm->vcpus[0];

	arch_vm_reset(vm);
	vm->state = VM_RUNNING;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vm->vcpus[i].state = VCPU_STOPPED;
		vm->vcpus[i].wake_at = UINT64_MAX;
		vm->vcpus[i].slice_left = 0;
		vm->vcpus[i].slice_debt = 0;
	}
	arch_vcpu_reset(v0, vm->cfg->entry, 0, vm->cfg->dtb_gpa);
	sched_enqueue(v0, false);
}

/* One line of counters, summed over the VM's vCPUs (not on a hot path). */
static void vm_print_stats(struct vm *vm)
{
	struct vcpu_stats t;

	vm_sum_stats(vm, &t);
	pr_info("vm %s stats: exits tick %llu mmio %llu halt %llu other %llu; "
		"SBI calls %llu (%llu unsupported); interrupts injected %llu; "
		"device accesses %llu",
		vm->cfg->name, (unsigned long long)t.exits[EXIT_TICK],
		(unsigned long long)t.exits[EXIT_MMIO], (unsigned long long)t.exits[EXIT_HALT],
		(unsigned long long)(t.exits[EXIT_HOST_IRQ] + t.exits[EXIT_YIELD] +
				     t.exits[EXIT_VCPU_STOP] + t.exits[EXIT_SHUTDOWN] +
				     t.exits[EXIT_REBOOT] + t.exits[EXIT_FAULT]),
		(unsigned long long)t.hypercalls, (unsigned long long)t.hypercalls_unsupported,
		(unsigned long long)t.irqs_injected,
		(unsigned long long)(bus_accesses(&vm->bus) + bus_accesses(&vm->iobus)));
}

void vm_stop(struct vm *vm, const char *why)
{
	if (vm->state == VM_STOPPED)
		return;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		sched_remove(&vm->vcpus[i]);
		vm->vcpus[i].state = VCPU_STOPPED;
		vm->vcpus[i].wake_at = UINT64_MAX;
	}
	if (vm->con.len)
		console_emit_line(vm->cfg->name, vm->con.line, vm->con.len);
	vm->con.len = 0;
	vm->state = VM_STOPPED;
	pr_info("vm %s stopped: %s", vm->cfg->name, why);
	vm_print_stats(vm);
}

/* Fresh RAM with the original images, devices in their reset state. */
static int vm_reload(struct vm *vm)
{
	bus_reset(&vm->bus);
	bus_reset(&vm->iobus);
	if (load_images(vm)) {
		pr_err("vm %s: cannot reload its images; it stays stopped", vm->cfg->name);
		return -1;
	}
	return 0;
}

int vm_boot(struct vm *vm)
{
	if (vm->state != VM_STOPPED && vm->state != VM_CREATED)
		return -1;
	if (vm_reload(vm))
		return -1;
	vm->restarts = 0;
	pr_info("vm %s starting from its images", vm->cfg->name);
	vm_start(vm);
	return 0;
}

void vm_restart(struct vm *vm, const char *why)
{
	vm_stop(vm, why);
	if (vm_reload(vm))
		return;
	vm->restarts++;
	pr_info("vm %s restarting (restart %u)", vm->cfg->name, vm->restarts);
	vm_start(vm);
}

int vm_pause(struct vm *vm)
{
	if (vm->state != VM_RUNNING)
		return -1;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->state == VCPU_RUNNABLE || v->state == VCPU_RUNNING) {
			sched_remove(v);
			v->state = VCPU_PAUSED;
		}
	}
	vm->state = VM_PAUSED;
	pr_info("vm %s paused", vm->cfg->name);
	return 0;
}

int vm_resume(struct vm *vm)
{
	if (vm->state != VM_PAUSED)
		return -1;
	vm->state = VM_RUNNING;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->state == VCPU_PAUSED) {
			sched_enqueue(v, false);
		} else if (v->state == VCPU_BLOCKED) {
			/* Its timer may have passed or an interrupt come meanwhile. */
			timers_note_block(v->wake_at);
			vcpu_kick(v);
		}
	}
	pr_info("vm %s resumed", vm->cfg->name);
	return 0;
}

const char *vm_policy_name(enum cfg_policy policy)
{
	return (unsigned)policy < ARRAY_SIZE(policy_name) ? policy_name[policy] : "?";
}

void vm_event(struct vm *vm, enum cfg_policy policy, const char *what)
{
	pr_info("vm %s: %s: policy %s", vm->cfg->name, what, vm_policy_name(policy));
	switch (policy) {
	case CFG_POLICY_RESTART:
		if (vm->cfg->max_restarts && vm->restarts >= vm->cfg->max_restarts) {
			vm_stop(vm, "restart limit reached");
			return;
		}
		vm_restart(vm, what);
		return;
	case CFG_POLICY_HALT_ALL:
		pr_info("halting the machine (policy of vm %s)", vm->cfg->name);
		arch_poweroff(false);
	case CFG_POLICY_STOP:
	default:
		vm_stop(vm, what);
		return;
	}
}

void vm_sum_stats(const struct vm *vm, struct vcpu_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct vcpu_stats *s = &vm->vcpus[i].stats;

		for (unsigned k = 0; k < EXIT_NR; k++)
			t->exits[k] += s->exits[k];
		t->run_ticks += s->run_ticks;
		t->irqs_injected += s->irqs_injected;
		t->hypercalls += s->hypercalls;
		t->hypercalls_unsupported += s->hypercalls_unsupported;
		t->csr_emulated += s->csr_emulated;
	}
}

void vm_sample_shares(uint64_t now)
{
	static uint64_t window_start;

	for (unsigned i = 0; i < nvms; i++) {
		for (unsigned k = 0; k < vms[i].nvcpus; k++) {
			struct vcpu *v = &vms[i].vcpus[k];

			v->share_ticks = v->stats.run_ticks - v->share_mark;
			v->share_mark = v->stats.run_ticks;
		}
	}
	vm_share_window = now - window_start;
	window_start = now;
}

bool vm_note_once(struct vm *vm, uint64_t key)
{
	for (uint32_t i = 0; i < vm->nnoted; i++)
		if (vm->noted[i] == key)
			return false;
	if (vm->nnoted >= VM_NOTED_MAX)
		return false;
	vm->noted[vm->nnoted++] = key;
	return true;
}

bool vm_all_stopped(void)
{
	for (unsigned i = 0; i < nvms; i++)
		if (vms[i].state != VM_STOPPED)
			return false;
	return true;
}

int vcpu_start(struct vcpu *v, uint64_t pc, uint64_t arg0, uint64_t arg1)
{
	if (v->state != VCPU_STOPPED || v->vm->state != VM_RUNNING)
		return -1;
	arch_vcpu_reset(v, pc, arg0, arg1);
	v->slice_left = 0;
	v->slice_debt = 0;
	sched_enqueue(v, false);
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->state == VCPU_BLOCKED && v->vm->state == VM_RUNNING && arch_vcpu_irq_pending(v)) {
		v->wake_at = UINT64_MAX;
		sched_wake(v, arch_now());
	}
}

static void vcpu_halt(struct vcpu *v, uint64_t deadline)
{
	if (arch_vcpu_irq_pending(v))
		return;                 /* an interrupt is already waiting: go on */
	v->wake_at = deadline;
	sched_block_current(arch_now());
	timers_note_block(deadline);
	if (v->vm->con.len)
		console_changed = true; /* a waiting VM's prompt shows sooner */
}

static void vcpu_stop_self(struct vcpu *v)
{
	struct vm *vm = v->vm;

	sched_remove(v);
	v->state = VCPU_STOPPED;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].state != VCPU_STOPPED)
			return;
	vm_event(vm, vm->cfg->on_shutdown, "all vCPUs stopped");
}

/* An access the bus did not complete (r): 0 when the guest goes on. */
int vm_bus_unclaimed(struct vcpu *v, uint64_t gpa, unsigned size, bool write, bool pio,
		     uint64_t *val, int r)
{
	struct vm *vm = v->vm;

	if (r == BUS_NO_DEVICE && (pio || arch_gpa_in_mmio_hole(vm, gpa))) {
		/* a port (or device window) nothing answers: all ones, writes
		 * dropped (counted; each reported once, to show what a guest
		 * probes) */
		if (vm_note_once(vm, (pio ? 1ULL << 62 : 2ULL << 62) | (uint64_t)write << 61 | gpa)) {
			pr_info("vm %s: %u-byte %s %s 0x%llx: no device (%s)", vm->cfg->name,
				size, write ? "write to" : "read of",
				pio ? "port" : "guest-physical", (unsigned long long)gpa,
				write ? "ignored" : "all ones");
		}
		*val = ~0ULL;
		return 0;
	}
	return r;
}

static void mmio_fault(struct vcpu *v, uint64_t gpa, unsigned size, bool write, int r)
{
	struct vm *vm = v->vm;
	char what[160];

	snprintf(what, sizeof(what), "fault: %u-byte %s %s guest-physical 0x%llx, pc 0x%llx",
		 size, write ? "store" : "load",
		 r == BUS_NO_DEVICE ? "outside its memory and devices at" :
				      "that its device refuses at",
		 (unsigned long long)gpa, (unsigned long long)arch_vcpu_pc(v));
	vm_event(vm, vm->cfg->on_fault, what);
}

/* The bus access of an MMIO or port exit: 0 when the guest goes on. */
static int mmio_access(struct vcpu *v, uint64_t gpa, unsigned size, bool write, bool pio,
		       uint64_t *val)
{
	int r = bus_access(pio ? &v->vm->iobus : &v->vm->bus, gpa, size, write, val);

	return likely(r == 0) ? 0 : vm_bus_unclaimed(v, gpa, size, write, pio, val, r);
}

void vm_mmio_fault(struct vcpu *v, uint64_t gpa, unsigned size, bool write, int r)
{
	mmio_fault(v, gpa, size, write, r);
}

void vm_handle_exit(struct vcpu *v, struct vm_exit *e)
{
	struct vm *vm = v->vm;
	char what[160];

	switch (e->reason) {
	case EXIT_TICK:
	case EXIT_HOST_IRQ:
		return;
	case EXIT_MMIO: {
		int r = mmio_access(v, e->mmio.gpa, e->mmio.size, e->mmio.write, e->mmio.pio,
				    &e->mmio.value);

		if (likely(r == 0))
			arch_vcpu_complete_mmio(v, e);
		else
			mmio_fault(v, e->mmio.gpa, e->mmio.size, e->mmio.write, r);
		return;
	}
	case EXIT_HALT:
		vcpu_halt(v, e->halt.deadline);
		return;
	case EXIT_YIELD:
		sched_yield_current();
		return;
	case EXIT_VCPU_STOP:
		vcpu_stop_self(v);
		return;
	case EXIT_SHUTDOWN:
		vm_event(vm, vm->cfg->on_shutdown, "guest shutdown");
		return;
	case EXIT_REBOOT:
		vm_event(vm, vm->cfg->on_reboot, "guest reboot");
		return;
	case EXIT_FAULT:
		snprintf(what, sizeof(what), "fault: %s at guest-physical 0x%llx, pc 0x%llx",
			 e->fault.what, (unsigned long long)e->fault.gpa,
			 (unsigned long long)e->fault.pc);
		vm_event(vm, vm->cfg->on_fault, what);
		return;
	case EXIT_RESCHED:
		return;
	case EXIT_NR:
		break;
	}
	panic("vcpu %s/%u: bad exit reason %d", vm->cfg->name, v->id, e->reason);
}
