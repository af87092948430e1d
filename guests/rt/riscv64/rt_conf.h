/* Constants shared by the C runtime and crt0.S (keep assembler-safe). */
#ifndef GUEST_RT_CONF_H
#define GUEST_RT_CONF_H

#define RT_MAX_HARTS      8
#define RT_STACK_SHIFT    14                     /* 16 KiB per hart */
#define RT_STACK_SIZE     (1 << RT_STACK_SHIFT)

#endif
