#include "core/console.h"
#include "core/log.h"
#include "core/vm.h"
#include "lib/printf.h"
#include "lib/string.h"

#define CTRL_A 0x01

enum log_level log_level = LOG_INFO;

bool console_changed;
static unsigned focus;                  /* VM id that gets typed input */
static bool escape;                     /* Ctrl-A seen */

static void emit(const char *s, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		if (s[i] == '\n')
			arch_console_putc('\r');
		arch_console_putc(s[i]);
	}
}

void console_emit_line(const char *prefix, const char *text, unsigned len)
{
	emit("[", 1);
	emit(prefix, (unsigned)strlen(prefix));
	emit("] ", 2);
	emit(text, len);
	emit("\n", 1);
}

static void flush_line(struct vm *vm)
{
	console_emit_line(vm->cfg->name, vm->con.line, vm->con.len);
	vm->con.len = 0;
}

void console_vm_putc(struct vm *vm, uint8_t c)
{
	struct console_chan *ch = &vm->con;

	if (c == '\n') {
		flush_line(vm);
		return;
	}
	if (c == '\r' || c == 0)
		return;
	if (ch->len == 0) {
		ch->first_ts = arch_now();
		console_changed = true;
	}
	ch->line[ch->len++] = (char)c;
	if (ch->len == CONSOLE_LINE_MAX)
		flush_line(vm);
}

int console_vm_getc(struct vm *vm)
{
	struct console_chan *ch = &vm->con;
	uint8_t c;

	if (!ch->in_count)
		return -1;
	c = ch->in[ch->in_head];
	ch->in_head = (ch->in_head + 1) % CONSOLE_IN_MAX;
	ch->in_count--;
	return c;
}

static void queue_input(struct vm *vm, uint8_t c)
{
	struct console_chan *ch = &vm->con;

	if (ch->in_count == CONSOLE_IN_MAX)
		return;         /* the VM is not reading; like a full FIFO */
	ch->in[(ch->in_head + ch->in_count) % CONSOLE_IN_MAX] = c;
	ch->in_count++;
	console_changed = true;
}

static void feed_uart(struct vm *vm)
{
	while (vm->console_uart && vm->con.in_count &&
	       uart16550_rx_space(vm->console_uart))
		uart16550_rx_push(vm->console_uart, (uint8_t)console_vm_getc(vm));
}

static uint64_t flush_delay(void)
{
	return arch_ticks_per_sec() / 20;       /* 50 ms */
}

void console_poll(uint64_t now)
{
	for (unsigned i = 0; i < nvms; i++) {
		struct vm *vm = &vms[i];

		if (vm->con.len && now - vm->con.first_ts >= flush_delay())
			flush_line(vm);
		feed_uart(vm);
	}
}

uint64_t console_next_deadline(void)
{
	uint64_t d = UINT64_MAX;

	for (unsigned i = 0; i < nvms; i++) {
		struct vm *vm = &vms[i];

		if (vm->con.len && vm->con.first_ts + flush_delay() < d)
			d = vm->con.first_ts + flush_delay();
		if (vm->con.in_count && vm->console_uart) {
			uint64_t soon = arch_now() + flush_delay() / 5;

			if (soon < d)
				d = soon;
		}
	}
	return d;
}

static void route(uint8_t c)
{
	if (escape) {
		escape = false;
		if (c >= '0' && c <= '9') {
			unsigned id = (unsigned)(c - '0');

			if (id < nvms) {
				focus = id;
				pr_info("input now goes to vm %u (%s)", id, vms[id].cfg->name);
			} else {
				pr_info("no vm %u; input still goes to vm %u (%s)", id, focus,
					vms[focus].cfg->name);
			}
			return;
		}
		if (c != CTRL_A)
			return;
	} else if (c == CTRL_A) {
		escape = true;
		return;
	}
	if (focus < nvms) {
		queue_input(&vms[focus], c);
		feed_uart(&vms[focus]);
	}
}

void console_host_input(void)
{
	int c;

	while ((c = arch_console_getc()) >= 0)
		route((uint8_t)c);
}

void log_printf(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tag[] = { "ERROR: ", "WARNING: ", "", "" };
	char buf[CONSOLE_LINE_MAX + 16];
	va_list ap;
	int n, t;

	if (lvl > log_level)
		return;
	t = snprintf(buf, sizeof(buf), "%s", tag[lvl]);
	va_start(ap, fmt);
	n = vsnprintf(buf + t, sizeof(buf) - (size_t)t, fmt, ap);
	va_end(ap);
	n += t;
	if (n >= (int)sizeof(buf))
		n = (int)sizeof(buf) - 1;
	console_emit_line("tessera", buf, (unsigned)n);
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	char buf[CONSOLE_LINE_MAX];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "PANIC at %s:%d: ", file, line);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	console_emit_line("tessera", buf, (unsigned)strlen(buf));
	arch_poweroff(true);
}
