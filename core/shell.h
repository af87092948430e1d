/*
 * The management shell on the hypervisor console (docs/operating.md). Typed
 * bytes arrive from the console's input path while the shell has the focus;
 * line editing and echo happen there, but a finished line is only queued:
 * the core's loop runs it (shell_poll), between exits, where stopping or
 * restarting a VM is safe.
 */
#ifndef TESSERA_CORE_SHELL_H
#define TESSERA_CORE_SHELL_H

#include "lib/types.h"

#define SHELL_LINE_MAX 80       /* bytes of one command line */
#define SHELL_QUEUE 4           /* finished lines waiting for the loop */
#define SHELL_HISTORY 8         /* lines Ctrl-P / Up can bring back */
#define SHELL_PROMPT "tessera> "

/* The shell gets (true) or loses (false) the keyboard. */
void shell_focus(bool on);
/* One typed byte while the shell has the focus (console input path). */
void shell_input(uint8_t c);
/* Run the queued command lines (the core's loop). */
void shell_poll(void);
/* Run one command line now. */
void shell_execute(const char *line);
/* Another console line is about to be written: end a partly typed prompt
 * line first. True when shell_prompt_redraw() must follow the line. */
bool shell_prompt_break(void);
void shell_prompt_redraw(void);
/* True when the operator stopped a VM from the shell: Tessera then stays up
 * when every VM has stopped, until `poweroff`. */
bool shell_holds_machine(void);

#endif
