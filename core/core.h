/* The core's main loop and its timer bookkeeping (core/main.c). */
#ifndef TESSERA_CORE_CORE_H
#define TESSERA_CORE_CORE_H

#include "lib/types.h"

/* Entered by the back end once the host platform is up. */
__attribute__((noreturn)) void core_main(void);
/* A vCPU blocked until `deadline` (host time). */
void timers_note_block(uint64_t deadline);

#endif
