/* Host unit tests for the management shell (core/shell*.c) with the real
 * console multiplexer (core/console.c) in front of it: focus keys, line
 * editing, history, the command table, argument checks and error lines, the
 * prompt around other console lines, and random input that must never crash
 * either.
 *
 * Below them everything is a stub: the host console records every byte
 * written and hands out scripted input; the VM lifecycle functions record the
 * call and change the VM's state the way core/vm.c does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/console.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/shell.h"
#include "core/vm.h"
#include "devices/uart16550.h"

/* ------------------------------------------------------------ stubs */

static struct vm vm_store[CFG_MAX_VMS];
struct vm *vms = vm_store;
unsigned nvms;
uint64_t vm_share_window;
struct sched sched;

#define MAX_LINES 256
static char lines[MAX_LINES][CONSOLE_LINE_MAX + 64];    /* the lines written, as shown */
static unsigned nlines;
static char cur[CONSOLE_LINE_MAX + 64];                 /* the line being written, as shown */
static size_t ncur;
static char raw[1 << 16];               /* every byte written to the console */
static size_t nraw;
static char calls[512];                 /* "stop:1 pause:2 ..." */
static const char *typed;               /* what arch_console_getc() hands out */
static jmp_buf reboot_jmp;
static bool reboot_armed;

static void call(const char *what, const struct vm *vm)
{
	size_t n = strlen(calls);

	snprintf(calls + n, sizeof(calls) - n, "%s:%u ", what, vm ? vm->id : 99);
}

void arch_console_putc(char c)
{
	if (nraw < sizeof(raw) - 1) {
		raw[nraw++] = c;
		raw[nraw] = '\0';
	}
	/* lines[] and cur hold what a terminal would show */
	if (c == '\n') {
		assert_true(ncur <= CONSOLE_LINE_MAX + 16);     /* "[tessera] " + a full line */
		if (nlines < MAX_LINES)
			snprintf(lines[nlines++], sizeof(lines[0]), "%s", cur);
		ncur = 0;
	} else if (c == '\b') {
		ncur -= ncur > 0;
	} else if (c != '\r' && ncur < sizeof(cur) - 1) {
		cur[ncur++] = c;
	}
	cur[ncur] = '\0';
}

int arch_console_getc(void)
{
	return typed && *typed ? (uint8_t)*typed++ : -1;
}

void arch_poweroff(bool failure)
{
	fail_msg("poweroff(%d)", failure);
	abort();
}

void vm_stop(struct vm *vm, const char *why)
{
	(void)why;
	if (vm->state == VM_STOPPED)
		return;
	call("stop", vm);
	vm->state = VM_STOPPED;
}

int vm_boot(struct vm *vm)
{
	call("boot", vm);
	vm->state = VM_RUNNING;
	return 0;
}

void vm_restart(struct vm *vm, const char *why)
{
	(void)why;
	call("restart", vm);
	vm->state = VM_RUNNING;
	vm->restarts++;
}

int vm_pause(struct vm *vm)
{
	call("pause", vm);
	vm->state = VM_PAUSED;
	return 0;
}

int vm_resume(struct vm *vm)
{
	call("resume", vm);
	vm->state = VM_RUNNING;
	return 0;
}

bool vm_all_stopped(void)
{
	for (unsigned i = 0; i < nvms; i++)
		if (vms[i].state != VM_STOPPED)
			return false;
	return true;
}

void vm_sum_stats(const struct vm *vm, struct vcpu_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		for (unsigned k = 0; k < EXIT_NR; k++)
			t->exits[k] += vm->vcpus[i].stats.exits[k];
		t->run_ticks += vm->vcpus[i].stats.run_ticks;
		t->hypercalls += vm->vcpus[i].stats.hypercalls;
	}
}

const char *vm_policy_name(enum cfg_policy policy)
{
	return policy == CFG_POLICY_RESTART ? "restart" : "stop";
}

uint64_t arch_now(void)
{
	return 12345678;
}

uint64_t arch_ticks_per_sec(void)
{
	return 10000000;
}

uint64_t arch_vcpu_pc(struct vcpu *v)
{
	return 0x80000000 + v->id * 4;
}

void arch_vcpu_describe(struct vcpu *v)
{
	(void)v;
}

void arch_reboot(void)
{
	assert_true(reboot_armed);
	longjmp(reboot_jmp, 1);
}

/* ------------------------------------------------------------ fixture */

static int fake_access(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	(void)dev, (void)off, (void)size, (void)val;
	return 0;
}

static const struct dev_ops uart_ops = { "uart16550", fake_access, NULL, NULL };
static const struct dev_ops plic_ops_stub = { "plic", fake_access, NULL, NULL };
static const char *const names[] = { "echo", "counter-a", "counter-b" };
static const struct cfg_image image = { "guest:counter", NULL, 7120, 0x80000000 };
static const struct cfg_device devices[] = {
	{ .type = CFG_DEV_PLIC, .base = 0x0c000000, .size = 0x400000 },
	{ .type = CFG_DEV_UART16550, .base = 0x10000000, .size = 0x100, .irq = 10 },
};
static struct cfg_vm cfgs[3];

/* Forget what was written (but not the line being written). */
static void reset_output(void)
{
	nlines = 0;
	nraw = 0;
	raw[0] = '\0';
	calls[0] = '\0';
}

/* A Tessera line's text after "[tessera] ", or the whole line. */
static const char *hv(unsigned i)
{
	assert_true(i < nlines);
	return strncmp(lines[i], "[tessera] ", 10) ? lines[i] : lines[i] + 10;
}

static int setup(void **state)
{
	(void)state;
	shell_execute("poweroff");              /* the shell's own state: no hold */
	memset(vm_store, 0, sizeof(vm_store));
	nvms = 3;
	for (unsigned i = 0; i < nvms; i++) {
		struct vm *vm = &vms[i];

		cfgs[i] = (struct cfg_vm){ .name = names[i], .vcpus = 1, .entry = 0x80000000,
					   .max_restarts = i, .images = &image, .nimages = 1,
					   .devices = devices, .ndevices = 2 };
		vm->id = i;
		vm->cfg = &cfgs[i];
		vm->state = VM_RUNNING;
		vm->nvcpus = 1;
		vm->vcpus[0].vm = vm;
		vm->vcpus[0].state = VCPU_RUNNABLE;
		vm->vcpus[0].share_ticks = 2500000 * i;
		vm->regions[0] = (struct vm_region){ 0x80000000, MiB(4), 0x80400000, 0, 0 };
		vm->nregions = 1;
		vm->bus.devs[0] = (struct bus_dev){ .base = 0x0c000000, .size = 0x400000,
						    .ops = &plic_ops_stub, .dev = &vm->devs[0],
						    .reads = 3, .writes = 4 };
		vm->bus.devs[1] = (struct bus_dev){ .base = 0x10000000, .size = 0x100,
						    .ops = &uart_ops, .dev = &vm->devs[1],
						    .irq = 10, .reads = 5, .writes = 6 };
		vm->bus.ndevs = 2;
		uart16550_init(&vm->devs[1].uart, (struct irq_line){ NULL, NULL, 0 }, NULL, NULL,
			       false);
		vm->console_uart = &vm->devs[1].uart;
	}
	vm_share_window = 10000000;
	log_level = LOG_INFO;
	shell_poll();                           /* lines a failed test left queued */
	console_focus_vm(0);
	reset_output();
	return 0;
}

/* Keys typed on the host console. */
static void type(const char *s)
{
	typed = s;
	console_host_input();
	assert_int_equal(*typed, '\0');
}

static void enter_shell(void)
{
	type("\x01h");
	assert_string_equal(lines[nlines - 1],
			    "[tessera] input now goes to the tessera shell ('help' lists its commands)");
	assert_string_equal(cur, "[tessera] " SHELL_PROMPT);
	reset_output();
}

/* Run a line; return how many console lines it printed. */
static unsigned run(const char *line)
{
	reset_output();
	shell_execute(line);
	return nlines;
}

static unsigned nprinted(const char *needle)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nlines; i++)
		n += strstr(lines[i], needle) != NULL;
	return n;
}

static bool printed(const char *needle)
{
	return nprinted(needle) > 0;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

#define ASSERT_ONE_ERROR(line, text) do { \
	assert_int_equal(run(line), 1); \
	if (strncmp(lines[0], "[tessera] shell: ", 17) || !strstr(lines[0], text)) \
		fail_msg("'%s' printed '%s', want '[tessera] shell: ...%s...'", line, \
			 lines[0], text); \
	assert_string_equal(calls, ""); \
} while (0)

/* ------------------------------------------------------------ commands */

static void test_vm_list(void **state)
{
	(void)state;
	vms[1].state = VM_PAUSED;
	assert_int_equal(run("vm list"), 4);
	assert_string_equal(hv(0), " id name            state    vcpus  memory    cpu");
	assert_string_equal(hv(1), "  0 echo            running      1   4 MiB   0.0%");
	assert_string_equal(hv(2), "  1 counter-a       paused       1   4 MiB  25.0%");
	assert_string_equal(hv(3), "  2 counter-b       running      1   4 MiB  50.0%");
	/* blanks anywhere are fine */
	assert_int_equal(run("  vm \t list  "), 4);
}

static void test_cpu_share_bounds(void **state)
{
	(void)state;
	vm_share_window = 0;                    /* no window yet */
	run("vm list");
	assert_non_null(strstr(hv(3), " 0.0%"));
	vm_share_window = 1000;
	vms[2].vcpus[0].share_ticks = 5000;     /* more than the window: capped */
	run("vm list");
	assert_non_null(strstr(hv(3), "100.0%"));
}

static void test_vm_by_id_or_name(void **state)
{
	(void)state;
	run("vm pause counter-b");
	assert_string_equal(calls, "pause:2 ");
	run("vm resume 2");
	assert_string_equal(calls, "resume:2 ");
	run("vm pause 001");
	assert_string_equal(calls, "pause:1 ");
	ASSERT_ONE_ERROR("vm stop 3", "no vm '3'");
	ASSERT_ONE_ERROR("vm stop 99999999999999999999", "no vm '99999999999999999999'");
	ASSERT_ONE_ERROR("vm stop counter", "no vm 'counter'");
	ASSERT_ONE_ERROR("vm stop -1", "no vm '-1'");
	ASSERT_ONE_ERROR("stats nope", "no vm 'nope'");
}

static void test_lifecycle_commands(void **state)
{
	(void)state;
	run("vm stop echo");
	assert_string_equal(calls, "stop:0 ");
	assert_true(shell_holds_machine());
	run("vm start 0");
	assert_string_equal(calls, "boot:0 ");
	run("vm restart counter-a");
	assert_string_equal(calls, "restart:1 ");
	run("vm pause 1");
	run("vm restart 1");                    /* restart works from any state */
	assert_string_equal(calls, "restart:1 ");
	run("vm stop 1");
	run("vm restart 1");
	assert_string_equal(calls, "restart:1 ");
}

static void test_wrong_states(void **state)
{
	(void)state;
	ASSERT_ONE_ERROR("vm start 1", "vm counter-a is running; 'vm start' needs it stopped");
	ASSERT_ONE_ERROR("vm resume 1", "needs it paused");
	vms[2].state = VM_STOPPED;
	ASSERT_ONE_ERROR("vm stop counter-b", "vm counter-b is stopped; 'vm stop' needs it "
			 "running or paused");
	ASSERT_ONE_ERROR("vm pause 2", "needs it running");
	vms[0].state = VM_PAUSED;
	ASSERT_ONE_ERROR("vm pause 0", "vm echo is paused");
}

static void test_last_stop_keeps_tessera_up(void **state)
{
	(void)state;
	assert_false(shell_holds_machine());
	run("vm stop 0");
	run("vm stop 1");
	assert_false(printed("no vm is running"));
	run("vm stop 2");
	assert_true(printed("no vm is running; Tessera stays up"));
	assert_true(shell_holds_machine());
	run("poweroff");
	assert_false(shell_holds_machine());
	assert_true(vm_all_stopped());
}

static void test_poweroff_stops_every_vm(void **state)
{
	(void)state;
	vms[1].state = VM_PAUSED;
	vms[2].state = VM_STOPPED;
	run("poweroff");
	assert_string_equal(calls, "stop:0 stop:1 ");
	assert_true(vm_all_stopped());
	assert_false(shell_holds_machine());
}

static void test_usage_errors(void **state)
{
	static const char *const bad[][2] = {
		{ "help me", "usage: help" },
		{ "vm list 1", "usage: vm list" },
		{ "vm info", "usage: vm info <vm>" },
		{ "vm info 1 2", "usage: vm info <vm>" },
		{ "vm start", "usage: vm start <vm>" },
		{ "vm stop", "usage: vm stop <vm>" },
		{ "vm restart", "usage: vm restart <vm>" },
		{ "vm pause", "usage: vm pause <vm>" },
		{ "vm resume 0 0", "usage: vm resume <vm>" },
		{ "focus", "usage: focus <vm>" },
		{ "stats 0 1", "usage: stats [<vm>]" },
		{ "log level info debug", "usage: log level [error|warn|info|debug]" },
		{ "reboot now", "usage: reboot" },
		{ "poweroff 0", "usage: poweroff" },
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_ONE_ERROR(bad[i][0], bad[i][1]);
}

static void test_unknown_commands(void **state)
{
	(void)state;
	ASSERT_ONE_ERROR("frobnicate", "unknown command 'frobnicate'; 'help' lists");
	ASSERT_ONE_ERROR("vm", "unknown command 'vm'");
	ASSERT_ONE_ERROR("vm frob 1", "unknown command 'vm frob 1'");
	ASSERT_ONE_ERROR("VM LIST", "unknown command");
	ASSERT_ONE_ERROR("log", "unknown command");
	ASSERT_ONE_ERROR("vmlist", "unknown command");
	ASSERT_ONE_ERROR("a b c d e f g", "too many words");
	assert_int_equal(run(""), 0);
	assert_int_equal(run("   \t "), 0);
}

static void test_help_lists_every_command(void **state)
{
	static const char *const words[] = {
		"help", "vm list", "vm info", "vm start", "vm stop", "vm restart", "vm pause",
		"vm resume", "focus", "stats", "log level", "reboot", "poweroff",
	};

	(void)state;
	assert_true(run("help") >= sizeof(words) / sizeof(words[0]));
	for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!printed(words[i]))
			fail_msg("help does not mention '%s'", words[i]);
}

static void test_vm_info(void **state)
{
	(void)state;
	run("vm info counter-b");
	assert_true(printed("vm 2 counter-b: running, 1 vCPU(s), restarts 0 (limit 2)"));
	assert_true(printed("memory 0x80000000-0x80400000 (4 MiB) at host 0x80400000"));
	assert_true(printed("image guest:counter at 0x80000000 (7120 bytes)"));
	assert_true(printed("device plic at 0xc000000-0xc400000"));
	assert_true(printed("device uart16550 at 0x10000000-0x10000100, irq 10, console"));
	assert_true(printed("vcpu 0: runnable, pc 0x80000000"));
	run("vm info 0");
	assert_true(printed("restarts 0 (limit none)"));
}

static void test_stats(void **state)
{
	(void)state;
	vms[1].vcpus[0].stats.exits[EXIT_TICK] = 7;
	vms[1].vcpus[0].stats.exits[EXIT_MMIO] = 3;
	vms[1].vcpus[0].stats.run_ticks = 25000000;     /* 2.5 s */
	vms[1].vcpus[0].stats.hypercalls = 11;
	vms[1].bus.unclaimed = 2;
	run("stats counter-a");
	assert_true(printed("vm counter-a: running, ran 2500 ms, cpu 25.0%, 10 exits"));
	assert_true(printed("exits: tick 7 host-irq 0 mmio 3 halt 0"));
	assert_true(printed("sbi calls 11 (0 unsupported)"));
	assert_true(printed("device uart16550 at 0x10000000: 5 reads, 6 writes"));
	assert_true(printed("unclaimed accesses 2"));
	assert_false(printed("vm echo:"));
	run("stats");
	assert_true(printed("tessera: up 1234 ms"));
	assert_true(printed("vm echo:") && printed("vm counter-a:") && printed("vm counter-b:"));
}

static void test_log_level(void **state)
{
	(void)state;
	run("log level debug");
	assert_int_equal(log_level, LOG_DEBUG);
	assert_true(printed("log level debug"));
	run("log level");
	assert_true(printed("log level debug"));
	ASSERT_ONE_ERROR("log level loud", "no log level 'loud'");
	assert_int_equal(log_level, LOG_DEBUG);
	run("log level error");
	assert_int_equal(log_level, LOG_ERROR);
	/* the shell answers whatever the level; Tessera's own info lines do not show */
	assert_true(printed("log level error"));
	reset_output();
	pr_info("quiet");
	assert_int_equal(nlines, 0);
}

static void test_reboot(void **state)
{
	(void)state;
	reset_output();
	reboot_armed = true;
	if (setjmp(reboot_jmp) == 0) {
		shell_execute("reboot");
		fail_msg("reboot returned");
	}
	reboot_armed = false;
	assert_true(printed("rebooting the machine"));
}

/* ------------------------------------------------------------ focus */

/* The next byte VM `id` receives: from its UART, then from its queue. */
static int vm_input(unsigned id)
{
	uint64_t v = 0;
	struct uart16550 *u = vms[id].console_uart;

	if (!u->rx_count)
		return console_vm_getc(&vms[id]);
	assert_int_equal(uart16550_read(u, 0, 1, &v), 0);      /* RBR */
	return (int)v;
}

static void test_focus_keys(void **state)
{
	(void)state;
	type("ab");                             /* VM 0 has the keyboard at first */
	assert_int_equal(vm_input(0), 'a');
	assert_int_equal(vm_input(0), 'b');
	type("\x01" "2xy");
	assert_string_equal(hv(0), "input now goes to vm 2 (counter-b)");
	assert_int_equal(vm_input(2), 'x');
	type("\x01\x01");                       /* a literal Ctrl-A for the VM */
	assert_int_equal(vm_input(2), 'y');
	assert_int_equal(vm_input(2), 0x01);
	reset_output();
	type("\x01" "7");
	assert_string_equal(hv(0), "no vm 7; input still goes to vm 2 (counter-b)");
	type("\x01q");
	assert_non_null(strstr(hv(1), "Ctrl-A then: 0-9 gives that vm the keyboard, h the"));
	enter_shell();
	type("\x01" "9");
	assert_string_equal(lines[0], "[tessera] " SHELL_PROMPT);      /* the open prompt ends */
	assert_string_equal(hv(1), "no vm 9; input still goes to the tessera shell");
	/* the shell's prompt comes back after Tessera's line */
	assert_string_equal(cur, "");
	type("vm list\r");
	shell_poll();
	assert_true(printed("2 counter-b"));
	assert_int_equal(uart16550_rx_space(vms[0].console_uart), UART16550_FIFO_SIZE);
	/* the focus command: the keyboard to the VM, no prompt */
	reset_output();
	type("focus counter-a\r");
	shell_poll();
	assert_string_equal(hv(nlines - 1), "input now goes to vm 1 (counter-a)");
	assert_string_equal(cur, "");
	type("z");
	assert_int_equal(vm_input(1), 'z');
}

/* ------------------------------------------------------------ editor */

static void test_typing_runs_from_the_loop(void **state)
{
	(void)state;
	enter_shell();
	console_changed = false;
	type("vm lisx\x7ft\r");
	/* echoed and queued, not run yet: the loop runs it */
	assert_string_equal(raw, "vm lisx\b \bt\r\n");
	assert_true(console_changed);
	assert_int_equal(nlines, 1);
	assert_string_equal(lines[0], "[tessera] " SHELL_PROMPT "vm list");
	shell_poll();
	assert_int_equal(nlines, 5);
	assert_string_equal(hv(1), " id name            state    vcpus  memory    cpu");
	/* and a fresh prompt after the answer */
	assert_string_equal(cur, "[tessera] " SHELL_PROMPT);
}

static void test_crlf_is_one_enter(void **state)
{
	(void)state;
	enter_shell();
	type("\r\n");                   /* one empty line: one new prompt */
	assert_int_equal(count(raw, SHELL_PROMPT), 1);
	type("\n");                     /* a '\n' alone is an Enter */
	assert_int_equal(count(raw, SHELL_PROMPT), 2);
	type("help\r\n");
	reset_output();
	shell_poll();
	assert_true(printed("poweroff"));
	assert_int_equal(count(raw, SHELL_PROMPT), 1);
}

static void test_line_editing_keys(void **state)
{
	(void)state;
	enter_shell();
	type("garbage\x15vm paus\x08\x08use 1\r");         /* Ctrl-U kills, ^H erases */
	shell_poll();
	assert_string_equal(calls, "pause:1 ");
	type("vm stop 1\x03");                          /* Ctrl-C cancels */
	shell_poll();
	assert_string_equal(calls, "pause:1 ");
	assert_non_null(strstr(raw, "^C\r\n[tessera] " SHELL_PROMPT));
	/* control bytes and 8-bit bytes are not part of a line */
	type("vm \x02\x04\x80\xffresume 1\r");
	shell_poll();
	assert_string_equal(calls, "pause:1 resume:1 ");
	/* backspace on an empty line does nothing */
	reset_output();
	type("\x7f\x7f");
	assert_null(strchr(raw, '\b'));
}

static void test_long_line_is_cut(void **state)
{
	char big[400], want[SHELL_LINE_MAX + 4];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	enter_shell();
	type(big);
	type("\r");
	reset_output();
	shell_poll();
	assert_int_equal(nlines, 1);
	/* exactly SHELL_LINE_MAX - 1 bytes were kept */
	memset(want, 'x', SHELL_LINE_MAX - 1);
	want[SHELL_LINE_MAX - 1] = '\'';
	want[SHELL_LINE_MAX] = '\0';
	assert_non_null(strstr(hv(0), "shell: unknown command"));
	assert_non_null(strstr(hv(0), want));
	assert_null(strstr(hv(0), "x" "x'"  "x"));
	/* a long argument to a command is just an unknown VM */
	shell_execute("vm stop xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_string_equal(calls, "");
}

static void test_history(void **state)
{
	(void)state;
	enter_shell();
	type("vm restart 1\r");
	type("vm restart 2\r");
	shell_poll();
	reset_output();
	type("\x10\x10\r");                              /* Ctrl-P twice: the older line */
	shell_poll();
	assert_string_equal(calls, "restart:1 ");
	type("\x1b[A\x1b[B\x1b[B\x1b[A\r");             /* Up, Down, Down, Up: the newest */
	shell_poll();
	assert_string_equal(calls, "restart:1 restart:1 ");
	/* walking past either end is harmless; back at the bottom the line is empty */
	for (unsigned i = 0; i < 2 * SHELL_HISTORY; i++)
		type("\x10");
	for (unsigned i = 0; i < 2 * SHELL_HISTORY + 1; i++)
		type("\x0e");
	type("\r");
	shell_poll();
	assert_string_equal(calls, "restart:1 restart:1 ");
	/* other escape sequences are swallowed whole */
	type("\x1b[1;5Cvm restart 2\x1bOP\x1bx\r");
	shell_poll();
	assert_string_equal(calls, "restart:1 restart:1 restart:2 ");
	/* once the history is full the oldest lines fall out */
	for (unsigned i = 0; i < SHELL_HISTORY + 2; i++) {
		char line[32];

		snprintf(line, sizeof(line), "vm info %u\r", i % 3);
		type(line);
		shell_poll();
	}
	reset_output();
	for (unsigned i = 0; i < 3 * SHELL_HISTORY; i++)
		type("\x10");
	type("\r");
	shell_poll();
	assert_true(printed("vm 2 counter-b: running"));       /* "vm info 2", not 0 */
}

static void test_queue_is_bounded(void **state)
{
	(void)state;
	enter_shell();
	for (unsigned i = 0; i < SHELL_QUEUE + 2; i++)
		type("vm restart 1\r");
	assert_int_equal(nprinted("[tessera] shell: busy; line dropped"), 2);
	reset_output();
	shell_poll();
	assert_int_equal(strlen(calls), SHELL_QUEUE * strlen("restart:1 "));
}

static void test_prompt_around_other_lines(void **state)
{
	(void)state;
	enter_shell();
	type("vm li");
	reset_output();
	console_emit_line("counter-a", "progress", 8);
	/* the partly typed line ends, the VM's line, then prompt and text again */
	assert_string_equal(raw, "\r\n[counter-a] progress\r\n[tessera] " SHELL_PROMPT "vm li");
	reset_output();
	type("st\r");
	shell_poll();
	assert_int_equal(nlines, 5);
	/* with nothing typed the prompt waits for the next key */
	reset_output();
	console_emit_line("counter-a", "progress", 8);
	assert_string_equal(raw, "\r\n[counter-a] progress\r\n");
	console_emit_line("counter-a", "progress", 8);
	assert_string_equal(raw, "\r\n[counter-a] progress\r\n[counter-a] progress\r\n");
	type("h");
	assert_string_equal(cur, "[tessera] " SHELL_PROMPT "h");
	/* a VM's partial line is flushed the same way */
	reset_output();
	console_vm_putc(&vms[2], '>');
	console_poll(arch_now() + arch_ticks_per_sec());
	assert_string_equal(raw, "\r\n[counter-b] >\r\n[tessera] " SHELL_PROMPT "h");
	/* without the focus: no prompt at all */
	type("\x01" "0");
	reset_output();
	console_emit_line("counter-a", "progress", 8);
	assert_string_equal(raw, "[counter-a] progress\r\n");
}

/* Random bytes (focus keys included) and random command lines: no crash, no
 * line too long, and the shell still answers afterwards. ASan and UBSan
 * watch the rest. */
static void test_random_input(void **state)
{
	static const char *const pieces[] = {
		"vm", "list", "info", "start", "stop", "restart", "pause", "resume", "stats",
		"log", "level", "debug", "focus", "help", "0", "1", "2", "3", "echo",
		"counter-a", "x", "", "\t",
	};
	unsigned seed = 12345;

	(void)state;
	for (unsigned round = 0; round < 20000; round++) {
		seed = seed * 1103515245 + 12345;
		if (seed >> 28 == 0) {
			char line[128] = "";

			for (unsigned w = (seed >> 8) % 5; w; w--) {
				seed = seed * 1103515245 + 12345;
				strncat(line, pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))],
					sizeof(line) - strlen(line) - 2);
				strcat(line, " ");
			}
			shell_execute(line);
		} else {
			char key[2] = { (char)(seed >> 16), '\0' };

			if (key[0])
				type(key);
		}
		if ((seed & 0xF00) == 0)
			shell_poll();
		if (nraw > sizeof(raw) / 2)
			reset_output();
		for (unsigned i = 0; i < nvms; i++) {
			if (vms[i].state == VM_STOPPED && (seed & 0x7000) == 0)
				vms[i].state = VM_RUNNING;
			while (console_vm_getc(&vms[i]) >= 0)
				;
			uart16550_reset(vms[i].console_uart);
		}
	}
	type("\x03x\x01h\x03");
	shell_poll();
	type("vm list\r");
	reset_output();
	shell_poll();
	assert_int_equal(nlines, 4);
	assert_true(printed(" id name") && printed("  2 counter-b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_vm_list, setup),
		cmocka_unit_test_setup(test_cpu_share_bounds, setup),
		cmocka_unit_test_setup(test_vm_by_id_or_name, setup),
		cmocka_unit_test_setup(test_lifecycle_commands, setup),
		cmocka_unit_test_setup(test_wrong_states, setup),
		cmocka_unit_test_setup(test_last_stop_keeps_tessera_up, setup),
		cmocka_unit_test_setup(test_poweroff_stops_every_vm, setup),
		cmocka_unit_test_setup(test_usage_errors, setup),
		cmocka_unit_test_setup(test_unknown_commands, setup),
		cmocka_unit_test_setup(test_help_lists_every_command, setup),
		cmocka_unit_test_setup(test_vm_info, setup),
		cmocka_unit_test_setup(test_stats, setup),
		cmocka_unit_test_setup(test_log_level, setup),
		cmocka_unit_test_setup(test_reboot, setup),
		cmocka_unit_test_setup(test_focus_keys, setup),
		cmocka_unit_test_setup(test_typing_runs_from_the_loop, setup),
		cmocka_unit_test_setup(test_crlf_is_one_enter, setup),
		cmocka_unit_test_setup(test_line_editing_keys, setup),
		cmocka_unit_test_setup(test_long_line_is_cut, setup),
		cmocka_unit_test_setup(test_history, setup),
		cmocka_unit_test_setup(test_queue_is_bounded, setup),
		cmocka_unit_test_setup(test_prompt_around_other_lines, setup),
		cmocka_unit_test_setup(test_random_input, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
