#include "core/console.h"
#include "core/log.h"
#include "core/shell.h"
#include "core/vm.h"
#include "lib/printf.h"
#include "lib/string.h"

#define CTRL_A 0x01
#define FOCUS_SHELL (-1)

enum log_level log_level = LOG_INFO;

bool console_changed;
static int focus;                       /* VM id that gets typed input, or FOCUS_SHELL */
static bool escape;                     /* Ctrl-A seen */

void console_write(const char *s, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		if (s[i] == '\n')
			arch_console_putc('\r');
		arch_console_putc(s[i]);
	}
}

void console_emit_line(const char *prefix, const char *text, unsigned len)
{
	bool redraw = shell_prompt_break();

	console_write("[", 1);
	console_write(prefix, (unsigned)strlen(prefix));
	console_write("] ", 2);
	console_write(text, len);
	console_write("\n", 1);
	if (redraw)
		shell_prompt_redraw();
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

/* Nothing of the VM can run: it waits (for input, typically at a prompt). */
static bool vm_waiting(const struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].state == VCPU_RUNNABLE || vm->vcpus[i].state == VCPU_RUNNING)
			return false;
	return true;
}

/*
 * When a partial line is shown: 50 ms after it began if the VM is waiting
 * (a prompt), else only after a second. A VM that is merely slow to finish
 * its line (descheduled, or the host busy) keeps its line whole.
 */
static uint64_t flush_due(const struct vm *vm)
{
	return vm->con.first_ts + (vm_waiting(vm) ? flush_delay() : arch_ticks_per_sec());
}

void console_poll(uint64_t now)
{
	for (unsigned i = 0; i < nvms; i++) {
		struct vm *vm = &vms[i];

		if (vm->con.len && now >= flush_due(vm))
			flush_line(vm);
		feed_uart(vm);
	}
}

uint64_t console_next_deadline(void)
{
	uint64_t d = UINT64_MAX;

	for (unsigned i = 0; i < nvms; i++) {
		struct vm *vm = &vms[i];

		if (vm->con.len && flush_due(vm) < d)
			d = flush_due(vm);
		if (vm->con.in_count && vm->console_uart) {
			uint64_t soon = arch_now() + flush_delay() / 5;

			if (soon < d)
				d = soon;
		}
	}
	return d;
}

int console_focus_vm(unsigned id)
{
	if (id >= nvms)
		return -1;
	shell_focus(false);
	focus = (int)id;
	console_printf("input now goes to vm %u (%s)", id, vms[id].cfg->name);
	return 0;
}

static void focus_shell(void)
{
	focus = FOCUS_SHELL;
	console_printf("input now goes to the tessera shell ('help' lists its commands)");
	shell_focus(true);
}

/* Ctrl-A then a digit. */
static void focus_digit(unsigned id)
{
	if (console_focus_vm(id) == 0)
		return;
	if (focus == FOCUS_SHELL)
		console_printf("no vm %u; input still goes to the tessera shell", id);
	else
		console_printf("no vm %u; input still goes to vm %d (%s)", id, focus,
			       vms[focus].cfg->name);
}

/* The key after Ctrl-A (other than Ctrl-A itself). */
static void focus_key(uint8_t c)
{
	if (c == 'h')
		focus_shell();
	else if (c >= '0' && c <= '9')
		focus_digit((unsigned)(c - '0'));
	else
		console_printf("Ctrl-A then: 0-9 gives that vm the keyboard, h the tessera shell, "
			       "Ctrl-A sends a Ctrl-A");
}

static void route(uint8_t c)
{
	if (escape) {
		escape = false;
		if (c != CTRL_A) {
			focus_key(c);
			return;
		}
	} else if (c == CTRL_A) {
		escape = true;
		return;
	}
	if (focus == FOCUS_SHELL) {
		shell_input(c);
	} else if ((unsigned)focus < nvms) {
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

void console_vprintf(const char *tag, const char *fmt, va_list ap)
{
	char buf[CONSOLE_LINE_MAX + 16];
	int n, t;

	t = snprintf(buf, sizeof(buf), "%s", tag);
	if (t >= (int)sizeof(buf))
		t = (int)sizeof(buf) - 1;
	n = t + vsnprintf(buf + t, sizeof(buf) - (size_t)t, fmt, ap);
	if (n >= (int)sizeof(buf))
		n = (int)sizeof(buf) - 1;
	console_emit_line("tessera", buf, (unsigned)n);
}

void console_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vprintf("", fmt, ap);
	va_end(ap);
}

void log_printf(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tag[] = { "ERROR: ", "WARNING: ", "", "" };
	va_list ap;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	console_vprintf(tag[lvl], fmt, ap);
	va_end(ap);
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	char buf[CONSOLE_LINE_MAX];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "PANIC at %s:%d: ", file, line);
	if (n < 0 || n >= (int)sizeof(buf))
		n = (int)sizeof(buf) - 1;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	console_emit_line("tessera", buf, (unsigned)strlen(buf));
	arch_poweroff(true);
}
