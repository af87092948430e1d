/*
 * The console multiplexer: every VM's output goes to the physical console as
 * whole lines prefixed with "[vm-name] "; the hypervisor's lines carry
 * "[tessera] ". Input goes to the VM that has the focus (Ctrl-A then a digit
 * switches it; see docs/operating.md).
 */
#ifndef TESSERA_CORE_CONSOLE_H
#define TESSERA_CORE_CONSOLE_H

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

void console_emit_line(const char *prefix, const char *text, unsigned len);
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
