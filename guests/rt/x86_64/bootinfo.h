/*
 * Tessera x86 boot info: what a device tree tells a RISC-V guest, as one
 * little-endian struct. Tessera's config tool (tools/mkconfig.py,
 * BOOTINFO_FMT "<IIIIQQ16s256sHBBI") writes one per VM into guest RAM
 * (at the VM's dtb_addr; by default the top page of the RAM region holding
 * the image), and vCPU 0 starts with its guest-physical address in EBX and
 * EAX = TESSERA_BOOT_MAGIC.
 *
 * This header is shared by the x86 guest runtime (guests/rt/x86_64) and the
 * hypervisor side; it has no dependencies beyond <stdint.h>.
 *
 * Compatibility rule: fields are only ever appended. A reader accepts any
 * size >= TESSERA_BOOTINFO_V1_SIZE and ignores what it does not know.
 */
#ifndef TESSERA_GUEST_BOOTINFO_H
#define TESSERA_GUEST_BOOTINFO_H

#include <stdint.h>

#define TESSERA_BOOT_MAGIC      0x54455353u     /* "TESS": EAX at a guest's entry */
#define TESSERA_BOOTINFO_MAGIC  0x31494254u     /* "TBI1" (bytes 'T' 'B' 'I' '1') */
#define TESSERA_BOOTINFO_V1_SIZE 312u
#define TESSERA_BOOTINFO_NAME_LEN 16u
#define TESSERA_BOOTINFO_ARGS_LEN 256u

struct tessera_bootinfo {
    uint32_t magic;         /*   0: TESSERA_BOOTINFO_MAGIC */
    uint32_t size;          /*   4: bytes of this struct as written (312 for v1) */
    uint32_t vcpus;         /*   8: number of vCPUs of the VM (1..8) */
    uint32_t vm_index;      /*  12: index of the VM in the configuration (0-based;
                                    the same number the VM-id hypercall returns) */
    uint64_t ram_base;      /*  16: guest-physical base of the VM's first RAM region */
    uint64_t ram_size;      /*  24: its size in bytes */
    char     name[16];      /*  32: VM name, NUL-terminated (at most 15 characters) */
    char     bootargs[256]; /*  48: bootargs, NUL-terminated, space separated key=value */
    uint16_t uart_port;     /* 304: console 16550 base I/O port (0x3f8), 0 = no UART */
    uint8_t  uart_irq;      /* 306: its ISA IRQ (4) */
    uint8_t  reserved;      /* 307: 0 */
    uint32_t reserved2;     /* 308: 0 */
};                          /* 312 bytes */

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct tessera_bootinfo) == TESSERA_BOOTINFO_V1_SIZE,
               "tessera_bootinfo must be 312 bytes");
_Static_assert(__builtin_offsetof(struct tessera_bootinfo, name) == 32, "name at 32");
_Static_assert(__builtin_offsetof(struct tessera_bootinfo, bootargs) == 48, "bootargs at 48");
_Static_assert(__builtin_offsetof(struct tessera_bootinfo, uart_port) == 304, "uart_port at 304");
_Static_assert(__builtin_offsetof(struct tessera_bootinfo, reserved2) == 308, "reserved2 at 308");
#endif

#endif
