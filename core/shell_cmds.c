/*
 * The management shell's commands: a table of command words, argument
 * counts and the VM states each accepts, run on a finished line from the
 * core's loop (between exits, where stopping or restarting a VM is safe).
 * Every answer is one or more "[tessera] ..." lines; every error is one
 * "[tessera] shell: ..." line. Nothing here runs on an exit path: the
 * counters it prints are plain fields the exit paths increment.
 */
#include "core/shell.h"
#include "core/console.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/vm.h"
#include "lib/printf.h"
#include "lib/string.h"

#define MAX_WORDS 6             /* command words and arguments of one line */

static bool hold;               /* the operator stopped a VM: stay up */

bool shell_holds_machine(void)
{
	return hold;
}

/* ------------------------------------------------------------ formatting */

static const char *const vm_state_name[VM_STATE_NR] = {
	[VM_CREATED] = "created",
	[VM_RUNNING] = "running",
	[VM_PAUSED] = "paused",
	[VM_STOPPED] = "stopped",
};

static const char *const vcpu_state_name[] = {
	[VCPU_CREATED] = "created",
	[VCPU_RUNNABLE] = "runnable",
	[VCPU_RUNNING] = "running",
	[VCPU_BLOCKED] = "halted",
	[VCPU_STOPPED] = "stopped",
	[VCPU_PAUSED] = "paused",
};

static const char *const exit_name[] = {
	[EXIT_TICK] = "tick",
	[EXIT_HOST_IRQ] = "host-irq",
	[EXIT_MMIO] = "mmio",
	[EXIT_HALT] = "halt",
	[EXIT_YIELD] = "yield",
	[EXIT_VCPU_STOP] = "vcpu-stop",
	[EXIT_SHUTDOWN] = "shutdown",
	[EXIT_REBOOT] = "reboot",
	[EXIT_FAULT] = "fault",
	[EXIT_RESCHED] = "resched",
};
_Static_assert(ARRAY_SIZE(exit_name) == EXIT_NR, "a name for every exit reason");

static const char *const level_name[] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

static const char *state_name(enum vm_state s)
{
	return (unsigned)s < ARRAY_SIZE(vm_state_name) ? vm_state_name[s] : "?";
}

static const char *vcpu_state(enum vcpu_state s)
{
	return (unsigned)s < ARRAY_SIZE(vcpu_state_name) ? vcpu_state_name[s] : "?";
}

static unsigned long long ticks_to_ms(uint64_t ticks)
{
	uint64_t tps = arch_ticks_per_sec();

	return tps ? (unsigned long long)(ticks / tps * 1000 + ticks % tps * 1000 / tps) : 0;
}

/* "4 MiB" or "12 KiB" into buf. */
static void format_size(char *buf, size_t size, uint64_t bytes)
{
	if (bytes && IS_ALIGNED(bytes, MiB(1)))
		snprintf(buf, size, "%llu MiB", (unsigned long long)(bytes >> 20));
	else
		snprintf(buf, size, "%llu KiB", (unsigned long long)(bytes >> 10));
}

static uint64_t vm_memory(const struct vm *vm)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < vm->nregions; i++)
		n += vm->regions[i].size;
	return n;
}

/* The VM's share of the CPU in the last sampling window, in 1/1000. */
static unsigned cpu_permille(const struct vm *vm)
{
	uint64_t t = 0;

	if (!vm_share_window)
		return 0;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		t += vm->vcpus[i].share_ticks;
	t = t >= vm_share_window ? 1000 : t * 1000 / vm_share_window;
	return (unsigned)t;
}

/* A line assembled in pieces; output is cut at CONSOLE_LINE_MAX. */
struct line {
	char s[CONSOLE_LINE_MAX];
	size_t n;
};

static void line_add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (l->n >= sizeof(l->s) - 1)
		return;
	va_start(ap, fmt);
	r = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		l->n += (size_t)r;
	if (l->n > sizeof(l->s) - 1)
		l->n = sizeof(l->s) - 1;
}

/* ------------------------------------------------------------ commands */

/* What a command handler gets: its arguments, and the VM the first one
 * names when the command takes a VM. */
struct call {
	struct vm *vm;
	char **arg;
	unsigned nargs;
};

struct cmd {
	const char *words;              /* "vm stop" */
	const char *usage;              /* its arguments */
	const char *help;
	uint8_t min, max;               /* how many arguments */
	bool vm_arg;                    /* the first argument (if any) names a VM */
	uint8_t states;                 /* with vm_arg: states it may be in (0: any) */
	void (*run)(const struct call *c);
};

#define IN(s) (1U << (s))

static void cmd_help(const struct call *c);

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vprintf("shell: ", fmt, ap);
	va_end(ap);
}

static void cmd_vm_list(const struct call *c)
{
	UNUSED(c);
	console_printf(" id name            state    vcpus  memory    cpu");
	for (unsigned i = 0; i < nvms; i++) {
		const struct vm *vm = &vms[i];
		unsigned pm = cpu_permille(vm);
		char mem[24];

		format_size(mem, sizeof(mem), vm_memory(vm));
		console_printf("%3u %-15s %-8s %5u %7s %3u.%u%%", vm->id, vm->cfg->name,
			       state_name(vm->state), vm->nvcpus, mem, pm / 10, pm % 10);
	}
}

static void info_config(const struct vm *vm)
{
	const struct cfg_vm *c = vm->cfg;
	char limit[16];

	snprintf(limit, sizeof(limit), "%u", c->max_restarts);
	console_printf("vm %u %s: %s, %u vCPU(s), restarts %u (limit %s)", vm->id, c->name,
		       state_name(vm->state), vm->nvcpus, vm->restarts,
		       c->max_restarts ? limit : "none");
	console_printf("  policies: on shutdown %s, on reboot %s, on fault %s",
		       vm_policy_name(c->on_shutdown), vm_policy_name(c->on_reboot),
		       vm_policy_name(c->on_fault));
	console_printf("  entry 0x%llx, device tree at 0x%llx (%llu bytes)",
		       (unsigned long long)c->entry, (unsigned long long)c->dtb_gpa,
		       (unsigned long long)c->dtb_size);
}

static void info_memory(const struct vm *vm)
{
	const struct cfg_vm *c = vm->cfg;

	for (unsigned i = 0; i < vm->nregions; i++) {
		const struct vm_region *r = &vm->regions[i];
		char size[24];

		format_size(size, sizeof(size), r->size);
		console_printf("  memory 0x%llx-0x%llx (%s) at host 0x%llx",
			       (unsigned long long)r->gpa, (unsigned long long)(r->gpa + r->size),
			       size, (unsigned long long)r->hpa);
	}
	for (unsigned i = 0; i < c->nimages; i++)
		console_printf("  image %s at 0x%llx (%llu bytes)", c->images[i].name,
			       (unsigned long long)c->images[i].gpa,
			       (unsigned long long)c->images[i].size);
}

static void info_devices(const struct vm *vm)
{
	const struct bus *buses[2] = { &vm->bus, &vm->iobus };

	for (unsigned b = 0; b < 2; b++) {
		for (unsigned i = 0; i < buses[b]->ndevs; i++) {
			const struct bus_dev *d = &buses[b]->devs[i];
			struct line l = { .n = 0 };

			line_add(&l, "  device %s at %s0x%llx-0x%llx", d->ops->name,
				 b ? "port " : "", (unsigned long long)d->base,
				 (unsigned long long)(d->base + d->size));
			if (d->irq)
				line_add(&l, ", irq %u", d->irq);
			if (d->dev == (const void *)vm->console_uart)
				line_add(&l, ", console");
			console_printf("%s", l.s);
		}
	}
}

static void cmd_vm_info(const struct call *c)
{
	struct vm *vm = c->vm;

	info_config(vm);
	info_memory(vm);
	info_devices(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		console_printf("  vcpu %u: %s, pc 0x%llx", i, vcpu_state(vm->vcpus[i].state),
			       (unsigned long long)arch_vcpu_pc(&vm->vcpus[i]));
		arch_vcpu_describe(&vm->vcpus[i]);
	}
}

/* The lifecycle commands: run_cmd has checked the VM's state. */
static void cmd_vm_start(const struct call *c)
{
	if (vm_boot(c->vm))
		err("vm %s did not start", c->vm->cfg->name);
}

static void cmd_vm_stop(const struct call *c)
{
	hold = true;
	vm_stop(c->vm, "stopped from the shell");
	if (vm_all_stopped())
		console_printf("no vm is running; Tessera stays up for the shell "
			       "('vm start <vm>' or 'poweroff')");
}

static void cmd_vm_restart(const struct call *c)
{
	vm_restart(c->vm, "restart from the shell");
}

static void cmd_vm_pause(const struct call *c)
{
	vm_pause(c->vm);
}

static void cmd_vm_resume(const struct call *c)
{
	vm_resume(c->vm);
}

static void cmd_focus(const struct call *c)
{
	console_focus_vm(c->vm->id);
}

static void stats_vm(const struct vm *vm)
{
	struct vcpu_stats t;
	struct line l = { .n = 0 };
	uint64_t exits = 0;
	unsigned pm = cpu_permille(vm);

	vm_sum_stats(vm, &t);
	for (unsigned k = 0; k < EXIT_NR; k++) {
		exits += t.exits[k];
		line_add(&l, " %s %llu", exit_name[k], (unsigned long long)t.exits[k]);
	}
	console_printf("vm %s: %s, ran %llu ms, cpu %u.%u%%, %llu exits", vm->cfg->name,
		       state_name(vm->state), ticks_to_ms(t.run_ticks), pm / 10, pm % 10,
		       (unsigned long long)exits);
	console_printf("  exits:%s", l.s);
	console_printf("  sbi calls %llu (%llu unsupported), csr emulated %llu, "
		       "interrupts injected %llu",
		       (unsigned long long)t.hypercalls, (unsigned long long)t.hypercalls_unsupported,
		       (unsigned long long)t.csr_emulated, (unsigned long long)t.irqs_injected);
	const struct bus *buses[2] = { &vm->bus, &vm->iobus };

	for (unsigned b = 0; b < 2; b++)
		for (unsigned i = 0; i < buses[b]->ndevs; i++) {
			const struct bus_dev *d = &buses[b]->devs[i];

			console_printf("  device %s at %s0x%llx: %llu reads, %llu writes",
				       d->ops->name, b ? "port " : "", (unsigned long long)d->base,
				       (unsigned long long)d->reads, (unsigned long long)d->writes);
		}
	console_printf("  unclaimed accesses %llu",
		       (unsigned long long)(vm->bus.unclaimed + vm->iobus.unclaimed));
}

static void cmd_stats(const struct call *c)
{
	if (c->vm) {
		stats_vm(c->vm);
		return;
	}
	console_printf("tessera: up %llu ms, %llu vCPU switches, log level %s",
		       ticks_to_ms(arch_now()), (unsigned long long)sched.switches,
		       level_name[log_level]);
	for (unsigned i = 0; i < nvms; i++)
		stats_vm(&vms[i]);
}

static int find_level(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(level_name); i++)
		if (strcmp(name, level_name[i]) == 0)
			return (int)i;
	return -1;
}

static void cmd_log_level(const struct call *c)
{
	if (c->nargs) {
		int lvl = find_level(c->arg[0]);

		if (lvl < 0) {
			err("no log level '%s' (error, warn, info or debug)", c->arg[0]);
			return;
		}
		log_level = (enum log_level)lvl;
	}
	console_printf("log level %s", level_name[log_level]);
}

static void cmd_reboot(const struct call *c)
{
	UNUSED(c);
	console_printf("rebooting the machine");
	arch_reboot();
}

static void cmd_poweroff(const struct call *c)
{
	UNUSED(c);
	for (unsigned i = 0; i < nvms; i++)
		vm_stop(&vms[i], "poweroff from the shell");
	hold = false;           /* every VM stopped: the loop powers off */
	shell_focus(false);
}

static const struct cmd cmds[] = {
	{ "help", "", "this list", 0, 0, false, 0, cmd_help },
	{ "vm list", "", "every VM: id, name, state, vCPUs, memory, CPU share (last second)",
	  0, 0, false, 0, cmd_vm_list },
	{ "vm info", "<vm>", "a VM's config, memory, devices and vCPUs",
	  1, 1, true, 0, cmd_vm_info },
	{ "vm start", "<vm>", "boot a stopped VM afresh from its images",
	  1, 1, true, IN(VM_STOPPED), cmd_vm_start },
	{ "vm stop", "<vm>", "stop a VM", 1, 1, true, IN(VM_RUNNING) | IN(VM_PAUSED), cmd_vm_stop },
	{ "vm restart", "<vm>", "stop, reload images, reset devices, boot again",
	  1, 1, true, 0, cmd_vm_restart },
	{ "vm pause", "<vm>", "take a VM off the CPU, keeping its state",
	  1, 1, true, IN(VM_RUNNING), cmd_vm_pause },
	{ "vm resume", "<vm>", "let a paused VM run again", 1, 1, true, IN(VM_PAUSED), cmd_vm_resume },
	{ "focus", "<vm>", "give a VM the keyboard (like Ctrl-A <digit>)",
	  1, 1, true, 0, cmd_focus },
	{ "stats", "[<vm>]", "exits, SBI calls, device accesses, interrupts, run time",
	  0, 1, true, 0, cmd_stats },
	{ "log level", "[error|warn|info|debug]", "show or set what Tessera logs",
	  0, 1, false, 0, cmd_log_level },
	{ "reboot", "", "reset the whole machine", 0, 0, false, 0, cmd_reboot },
	{ "poweroff", "", "stop every VM and power the machine off", 0, 0, false, 0, cmd_poweroff },
};

static void cmd_help(const struct call *c)
{
	UNUSED(c);
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++)
		console_printf("  %-10s %-24s %s", cmds[i].words, cmds[i].usage, cmds[i].help);
	console_printf("  <vm> is an id or a name. Keys: Ctrl-A 0-9 gives a VM the keyboard, "
		       "Ctrl-A h the shell");
}

/* How many of the tokens the command's words take; 0 if they differ. */
static unsigned match_words(const char *words, char **tok, unsigned ntok)
{
	unsigned n = 0;

	while (*words) {
		size_t len = 0;

		while (words[len] && words[len] != ' ')
			len++;
		if (n >= ntok || strlen(tok[n]) != len || strncmp(tok[n], words, len))
			return 0;
		n++;
		words += len;
		if (*words == ' ')
			words++;
	}
	return n;
}

/* Split line in place at blanks; -1 if it has more than max words. */
static int split(char *line, char **tok, unsigned max)
{
	unsigned n = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == max)
			return -1;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return (int)n;
}

/* A VM by id or name, or NULL (after saying so). */
static struct vm *find_vm(const char *arg)
{
	unsigned id = 0;
	size_t len = strnlen(arg, SHELL_LINE_MAX);
	bool digits = len > 0 && len <= 3;

	for (size_t i = 0; digits && i < len; i++) {
		digits = arg[i] >= '0' && arg[i] <= '9';
		id = id * 10 + (unsigned)(arg[i] - '0');
	}
	for (unsigned i = 0; i < nvms; i++)
		if ((digits && id == i) || strcmp(arg, vms[i].cfg->name) == 0)
			return &vms[i];
	err("no vm '%s' ('vm list' shows them)", arg);
	return NULL;
}

/* "running", "running or paused", ... for a state mask. */
static void states_text(struct line *l, unsigned mask)
{
	for (unsigned s = 0; s < VM_STATE_NR; s++)
		if (mask & IN(s))
			line_add(l, "%s%s", l->n ? " or " : "", vm_state_name[s]);
}

static void run_cmd(const struct cmd *cmd, char **arg, unsigned nargs)
{
	struct call c = { NULL, arg, nargs };
	struct line need = { .n = 0 };

	if (nargs < cmd->min || nargs > cmd->max) {
		err("usage: %s%s%s", cmd->words, cmd->usage[0] ? " " : "", cmd->usage);
		return;
	}
	if (cmd->vm_arg && nargs) {
		c.vm = find_vm(arg[0]);
		if (!c.vm)
			return;
		if (cmd->states && !(cmd->states & IN(c.vm->state))) {
			states_text(&need, cmd->states);
			err("vm %s is %s; '%s' needs it %s", c.vm->cfg->name,
			    state_name(c.vm->state), cmd->words, need.s);
			return;
		}
	}
	cmd->run(&c);
}

void shell_execute(const char *text)
{
	char line[SHELL_LINE_MAX];
	char *tok[MAX_WORDS];
	int n;

	snprintf(line, sizeof(line), "%s", text);
	n = split(line, tok, MAX_WORDS);
	if (n == 0)
		return;
	if (n < 0) {
		err("too many words (at most %u)", MAX_WORDS);
		return;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++) {
		unsigned w = match_words(cmds[i].words, tok, (unsigned)n);

		if (w) {
			run_cmd(&cmds[i], tok + w, (unsigned)n - w);
			return;
		}
	}
	err("unknown command '%s'; 'help' lists the commands", text);
}
