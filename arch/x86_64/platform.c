/*
 * Boot on a PC (QEMU -M pc, Bochs, GRUB on real hardware): multiboot memory
 * map, COM1 console, IDT, TSC and LAPIC timer calibrated against the PIT,
 * then pick SVM or VMX from CPUID and hand over to the core.
 */
#include "arch/x86_64/x86.h"
#include "arch/x86_64/x86vcpu.h"
#include "core/core.h"
#include "core/log.h"
#include "core/palloc.h"
#include "lib/string.h"

#define MB_BOOT_MAGIC 0x2BADB002
#define COM1 0x3F8
#define HOST_LAPIC_BASE 0xFEE00000UL
#define HOST_LAPIC_ID 0x20
#define HOST_LAPIC_EOI 0xB0
#define HOST_LAPIC_SVR 0xF0
#define HOST_LAPIC_LVT_TIMER 0x320
#define HOST_LAPIC_TIMER_INIT 0x380
#define HOST_LAPIC_TIMER_CUR 0x390
#define HOST_LAPIC_TIMER_DIV 0x3E0
#define TIMER_VECTOR 32
#define SPURIOUS_VECTOR 39
#define HOST_VECTORS 40                 /* exceptions, the timer, spurious */
#define STACK_CANARY 0x5445535345524121ULL
#define POLL_TICKS_DIV 50               /* console input polled every 20 ms */
#define CONSOLE_DRAIN_DIV 1000          /* queued output drained every 1 ms */
#define CONSOLE_RING 4096
#define UART_FIFO 16

struct x86_platform x86_plat;
extern char _image_start[], _hv_end[], _guest_images_start[], _image_end[];
extern uint64_t boot_stack[];
extern char x86_trap_stubs[];

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct idt_entry {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
} __attribute__((packed));

/* Only the vectors the host uses: one past the limit faults (#GP) as an
 * absent gate would (#NP), and both are reported by the exception handler. */
static struct idt_entry idt[HOST_VECTORS] __attribute__((aligned(16)));
/* GDT: null, 0x08 code64, 0x10 data, 0x18-0x27 the TSS (VMX wants a host TR) */
static uint64_t gdt64[5] __attribute__((aligned(16)));
static uint8_t tss[104] __attribute__((aligned(16)));
static volatile bool timer_fired;
static uint64_t hw_deadline = UINT64_MAX;
/* what x86_program_timer was last asked for, and whether that timer is
 * still armed (its interrupt not taken yet) */
static uint64_t hw_request = UINT64_MAX;
static bool hw_armed, hw_draining;

/* ------------------------------------------------------------ console */

static void serial_init(void)
{
	outb(COM1 + 1, 0x00);           /* no interrupts: input is polled */
	outb(COM1 + 3, 0x80);
	outb(COM1 + 0, 0x01);           /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);           /* 8N1 */
	outb(COM1 + 2, 0xC7);
	outb(COM1 + 4, 0x03);
}

/*
 * Output goes through a ring drained into the UART's 16-byte FIFO whenever
 * the FIFO is empty, never waiting for it: an emulated UART may take its
 * baud rate's time per byte (Bochs: ~87 us at 115200), and a line written
 * synchronously would keep every VM off the CPU for milliseconds. While
 * bytes wait, the host timer fires at least every CONSOLE_DRAIN_DIV-th of a
 * second (x86_program_timer) and each exit it causes drains the ring
 * (x86_poll_console). Only a full ring and power-off wait for the UART.
 */
static char tx_ring[CONSOLE_RING];
static unsigned tx_head, tx_tail;       /* free-running: write, read */

static bool tx_pending(void)
{
	return tx_head != tx_tail;
}

/* Refill the UART's FIFO if it has emptied; false if it was still busy. */
static bool console_drain(void)
{
	if (!tx_pending() || !(inb(COM1 + 5) & 0x20))
		return false;
	for (unsigned n = 0; n < UART_FIFO && tx_pending(); n++)
		outb(COM1, (uint8_t)tx_ring[tx_tail++ % CONSOLE_RING]);
	return true;
}

/* Everything queued out of the UART, for power-off and panics. */
static void console_flush(void)
{
	for (unsigned long idle = 0; tx_pending() && idle < 100000000UL; idle++)
		if (console_drain())
			idle = 0;       /* bounded by a stuck UART, not by the ring's length */
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x40); i++)
		;                       /* transmitter empty */
}

/*
 * A full ring waits for the UART to take one FIFO's worth (16 bytes, ~1.4 ms
 * under Bochs) rather than drop or overwrite what is queued. Only a UART
 * that never empties its FIFO (none is there) loses the byte.
 */
void arch_console_putc(char c)
{
	for (unsigned long i = 0; tx_head - tx_tail >= CONSOLE_RING && i < 100000000UL; i++)
		console_drain();
	if (tx_head - tx_tail >= CONSOLE_RING)
		return;
	tx_ring[tx_head++ % CONSOLE_RING] = c;
	console_drain();
}

int arch_console_getc(void)
{
	if (!(inb(COM1 + 5) & 0x01))
		return -1;
	return inb(COM1);
}

/* ------------------------------------------------------------ interrupts */

static inline uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(HOST_LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(HOST_LAPIC_BASE + reg, v);
}

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

void x86_trap(struct trap_frame *f);
void x86_trap(struct trap_frame *f)
{
	if (f->vector == TIMER_VECTOR) {
		timer_fired = true;
		hw_armed = false;
		lapic_write(HOST_LAPIC_EOI, 0);
		return;
	}
	if (f->vector == SPURIOUS_VECTOR)
		return;
	panic("exception %llu in the hypervisor: error 0x%llx rip 0x%llx rsp 0x%llx cr2 0x%llx",
	      (unsigned long long)f->vector, (unsigned long long)f->error,
	      (unsigned long long)f->rip, (unsigned long long)f->rsp,
	      (unsigned long long)read_cr(2));
}

uint64_t x86_tss_base(void)
{
	return (uint64_t)(uintptr_t)tss;
}

static void gdt_init(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) ptr;
	uint64_t base = (uint64_t)(uintptr_t)tss, limit = sizeof(tss) - 1;

	gdt64[1] = 0x00AF9A000000FFFFULL;
	gdt64[2] = 0x00CF92000000FFFFULL;
	gdt64[3] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ULL << 40 |
		   ((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
	gdt64[4] = base >> 32;
	*(uint16_t *)(tss + 102) = sizeof(tss);         /* no I/O bitmap */
	ptr.limit = sizeof(gdt64) - 1;
	ptr.base = (uint64_t)(uintptr_t)gdt64;
	__asm__ volatile("lgdt %0; ltr %w1" :: "m"(ptr), "r"(0x18) : "memory");
}

static void idt_init(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) ptr;

	for (int v = 0; v < HOST_VECTORS; v++) {
		uint64_t h = (uint64_t)(uintptr_t)x86_trap_stubs + 16 * (uint64_t)v;

		idt[v] = (struct idt_entry){ (uint16_t)h, 0x08, 0, 0x8E, (uint16_t)(h >> 16),
					     (uint32_t)(h >> 32), 0 };
	}
	ptr.limit = sizeof(idt) - 1;
	ptr.base = (uint64_t)(uintptr_t)idt;
	__asm__ volatile("lidt %0" :: "m"(ptr));
}

/* Let a pending host interrupt (the LAPIC timer) in, then shut the door. */
void x86_take_host_interrupts(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

void x86_stack_check(void)
{
	if (unlikely(boot_stack[0] != STACK_CANARY))
		panic("hypervisor stack overflow (canary at %p overwritten)", (void *)boot_stack);
}

/* ------------------------------------------------------------ time */

/* Busy-wait `ms` on PIT channel 2 (gated through port 0x61), return TSC ticks. */
static uint64_t pit_wait_tsc(unsigned ms)
{
	uint32_t count = 1193182U * ms / 1000U;
	uint64_t t0, t1;
	uint8_t p61 = inb(0x61);

	outb(0x61, (uint8_t)((p61 & ~0x02) | 0x01));   /* gate on, speaker off */
	outb(0x43, 0xB0);                               /* ch2, lobyte/hibyte, mode 0 */
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	t0 = rdtsc();
	while (!(inb(0x61) & 0x20))
		;
	t1 = rdtsc();
	outb(0x61, p61);
	return t1 - t0;
}

static void time_init(void)
{
	uint64_t tsc10;

	outb(0x21, 0xFF);               /* mask both 8259s: Tessera uses the LAPIC */
	outb(0xA1, 0xFF);
	tsc10 = pit_wait_tsc(10);
	x86_plat.tsc_hz = tsc10 * 100;
	lapic_write(HOST_LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
	lapic_write(HOST_LAPIC_TIMER_DIV, 0x3);              /* divide by 16 */
	lapic_write(HOST_LAPIC_LVT_TIMER, 1U << 16);         /* masked while measuring */
	lapic_write(HOST_LAPIC_TIMER_INIT, 0xFFFFFFFF);
	uint64_t t = pit_wait_tsc(10);
	uint32_t elapsed = 0xFFFFFFFF - lapic_read(HOST_LAPIC_TIMER_CUR);

	x86_plat.lapic_hz = (uint64_t)elapsed * x86_plat.tsc_hz / (t ? t : 1);
	lapic_write(HOST_LAPIC_TIMER_INIT, 0);
	lapic_write(HOST_LAPIC_LVT_TIMER, TIMER_VECTOR);     /* one-shot */
}

uint64_t arch_now(void)
{
	return rdtsc();
}

uint64_t arch_ticks_per_sec(void)
{
	return x86_plat.tsc_hz;
}

/*
 * The LAPIC timer counts down from at most 2^32-1 at lapic_hz; a deadline
 * further out (or none) is reached in steps. Input is polled: the timer
 * fires at least every 1/POLL_TICKS_DIV s. Asked again for the deadline it
 * is armed for (the core sets the slice end, then the vCPU's entry asks
 * for the earlier of that and its chipset's next event), the timer is left
 * alone: programmed earlier for the same time, it fires at that time (or
 * at the earlier poll, which is as good).
 */
uint64_t x86_program_timer(uint64_t deadline)
{
	uint64_t now, poll, delta, count;
	bool draining = tx_pending();

	if (deadline == hw_request && hw_armed && draining == hw_draining)
		return hw_deadline;
	now = rdtsc();
	hw_request = deadline;
	hw_draining = draining;
	hw_armed = true;
	poll = now + x86_plat.tsc_hz / (draining ? CONSOLE_DRAIN_DIV : POLL_TICKS_DIV);
	if (deadline > poll)
		deadline = poll;
	hw_deadline = deadline;
	delta = deadline > now ? deadline - now : 0;
	count = delta * x86_plat.lapic_hz / x86_plat.tsc_hz;
	if (count == 0)
		count = 1;
	if (count > 0xFFFFFFFFULL)
		count = 0xFFFFFFFFULL;
	lapic_write(HOST_LAPIC_TIMER_INIT, (uint32_t)count);
	return deadline;
}

void arch_set_deadline(uint64_t deadline)
{
	x86_plat.want_deadline = deadline;
	x86_program_timer(deadline);
}

bool x86_poll_console(void)
{
	console_drain();
	if (!(inb(COM1 + 5) & 0x01))
		return false;
	console_host_input();
	return true;
}

void arch_idle(void)
{
	x86_stack_check();
	timer_fired = false;
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	x86_poll_console();
}

/* ------------------------------------------------------------ memory */

static void memory_init(const struct mb_info *mbi)
{
	if (!(mbi->flags & (1U << 6)))
		panic("the boot loader gave no memory map");
	for (uint32_t off = 0; off + sizeof(struct mb_mmap) <= mbi->mmap_length;) {
		const struct mb_mmap *m = (const void *)(uintptr_t)(mbi->mmap_addr + off);

		if (m->type == 1 && m->addr + m->len > MiB(1))
			palloc_add(m->addr < MiB(1) ? MiB(1) : m->addr,
				   m->addr + m->len - (m->addr < MiB(1) ? MiB(1) : m->addr));
		off += m->size + 4;
	}
	palloc_reserve(0, (uint64_t)(uintptr_t)_hv_end);
	palloc_reserve((uint64_t)(uintptr_t)_guest_images_start,
		       (uint64_t)((uintptr_t)_image_end - (uintptr_t)_guest_images_start));
	palloc_reserve((uint64_t)(uintptr_t)mbi, sizeof(*mbi));
	palloc_reserve(mbi->mmap_addr, mbi->mmap_length);
	/* identity map covers 64 GiB: nothing above is usable */
	palloc_reserve(GiB(64), ~0ULL - GiB(64));
}

/* ------------------------------------------------------------ power */

__attribute__((noreturn)) void arch_poweroff(bool failure)
{
	console_flush();
	if (failure)
		outb(0xF4, 0x01);       /* QEMU isa-debug-exit: status 3 */
	outw(0x604, 0x2000);            /* QEMU -M pc (PIIX4 ACPI) power off */
	outw(0xB004, 0x2000);           /* Bochs */
	for (;;)
		__asm__ volatile("cli; hlt");
}

__attribute__((noreturn)) void arch_reboot(void)
{
	outb(0x64, 0xFE);               /* keyboard controller reset */
	arch_poweroff(true);
}

/* ------------------------------------------------------------ boot */

void x86_boot(uint32_t magic, uint32_t info);
void x86_boot(uint32_t magic, uint32_t info)
{
	const struct mb_info *mbi = (const void *)(uintptr_t)info;

	serial_init();
	gdt_init();
	idt_init();
	if (magic != MB_BOOT_MAGIC)
		panic("not started by a multiboot loader (eax 0x%x)", magic);
	memory_init(mbi);
	time_init();
	pr_info("x86-64: TSC %llu kHz, LAPIC timer %llu kHz, Tessera %p-%p, guest images %p-%p",
		(unsigned long long)(x86_plat.tsc_hz / 1000),
		(unsigned long long)(x86_plat.lapic_hz / 1000), _image_start, _hv_end,
		_guest_images_start, _image_end);
	if (x86_backend_init())
		arch_poweroff(true);
	core_main();
}
