/* Constants shared by the C runtime and crt0.S (keep assembler-safe). */
#ifndef GUEST_RT_CONF_H
#define GUEST_RT_CONF_H

#define RT_MAX_CPUS       8                      /* stacks for vCPU ids 0..7 */
#define RT_MAX_HARTS      RT_MAX_CPUS            /* riscv64 spelling */
#define RT_STACK_SHIFT    14                     /* 16 KiB per vCPU */
#define RT_STACK_SIZE     (1 << RT_STACK_SHIFT)
#define RT_LOAD_ADDR      0x100000               /* where Tessera loads the image */

#define RT_BOOT_MAGIC     0x54455353             /* "TESS" in EAX at entry */
#define RT_GDT_CODE64     0x08                   /* selectors of the runtime's GDT */
#define RT_GDT_DATA       0x10

#endif
