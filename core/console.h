/*
 * The console multiplexer: every VM's output goes to the physical console as
 * whole lines prefixed with "[vm-name] "; the hypervisor's lines carry
 * "[tessera] ". Input goes to the VM that has the focus or to the management
 * shell (Ctrl-A then a digit or 'h' switches it; see docs/operating.md).
 */
#ifndef TESSERA_CORE_CONSOLE_H
#define TESSERA_CORE_CONSOLE_H

#include <stdarg.h>
#include "lib/types.h"

#define CONSOLE_LINE_MAX 200
#define CONSOLE_IN_MAX 64

struct vm;

struct console_chan {
	char line[CONSOLE_LINE_MAX];
	unsigned len;
	uint64_t first_ts;              /* when the pending partial line began */
	uint8_t in[CONSOLE_IN_MAX];     /* typed input not yet taken by the VM */
	unsigned in_head, in_count;
};

/* Set when console state changed so the loop re-reads console_next_deadline(). */
extern bool console_changed;

/* Write bytes to the physical console as they are ("\n" becomes "\r\n"). */
void console_write(const char *s, unsigned len);
/* One whole line "[prefix] text"; the shell's prompt line is redrawn after it. */
void console_emit_line(const char *prefix, const char *text, unsigned len);
/* One "[tessera] <tag><formatted text>" line, cut at CONSOLE_LINE_MAX. */
void console_vprintf(const char *tag, const char *fmt, va_list ap);
/* A "[tessera] ..." line whatever the log level (the shell's answers). */
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Give the keyboard to VM `id` and say so; -1 if there is no such VM. */
int console_focus_vm(unsigned id);
/* A byte of guest output from the VM's UART or SBI console. */
void console_vm_putc(struct vm *vm, uint8_t c);
/* A byte of typed input for the VM, or -1. */
int console_vm_getc(struct vm *vm);
/* Flush partial lines older than the flush delay; feed queued input to UARTs. */
void console_poll(uint64_t now);
/* Read the host console and route its bytes. */
void console_host_input(void);
/* Earliest time console_poll has something to do, or UINT64_MAX. */
uint64_t console_next_deadline(void);

#endif
