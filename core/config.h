/*
 * The scenario tables that tools/mkconfig.py generates from a TOML file in
 * configs/<arch>/. Everything here is const and built into the image; the
 * hypervisor builds its VMs from it at boot. The schema is in docs/config.md.
 */
#ifndef TESSERA_CORE_CONFIG_H
#define TESSERA_CORE_CONFIG_H

#include "lib/types.h"

#define CFG_NAME_MAX 16         /* VM names: 1..15 chars of [a-z0-9-] */
#define CFG_MAX_VMS 16
#define CFG_MAX_VCPUS 8         /* per VM */
#define CFG_MAX_REGIONS 4       /* per VM */
#define CFG_MAX_IMAGES 4        /* per VM */
#define CFG_MAX_DEVICES 8       /* per VM */

struct cfg_region {
	uint64_t gpa;           /* guest-physical base, 4 KiB aligned */
	uint64_t size;          /* bytes, multiple of 4 KiB */
	uint64_t phys;          /* host-physical base, or 0: Tessera allocates */
};

struct cfg_image {
	const char *name;       /* as written in the config ("guest:hello", a path) */
	const uint8_t *data;
	uint64_t size;
	uint64_t gpa;           /* load address, inside one region */
};

enum cfg_dev_type {
	CFG_DEV_UART16550 = 1,
	CFG_DEV_PLIC = 2,
	CFG_DEV_PC = 3,         /* x86: the PC chipset at its fixed addresses */
};

struct cfg_device {
	enum cfg_dev_type type;
	uint64_t base;          /* MMIO guest-physical base, or first I/O port */
	uint64_t size;          /* MMIO window, or number of ports */
	uint32_t irq;           /* RISC-V: PLIC source id; x86: ISA IRQ (0: none) */
	bool pio;               /* base/size are I/O ports (x86) */
};

/* How vCPU 0 starts. */
enum cfg_boot {
	CFG_BOOT_NATIVE = 0,    /* Tessera's own guests: DTB (RISC-V) or boot info (x86) */
	CFG_BOOT_LINUX_X86 = 1, /* x86 Linux boot protocol, 64-bit entry: dtb_gpa is the
				 * zero page; Tessera builds page tables and a GDT at
				 * boot_tables; the other vCPUs wait for INIT/SIPI */
};

enum cfg_policy {
	CFG_POLICY_STOP = 0,
	CFG_POLICY_RESTART = 1,
	CFG_POLICY_HALT_ALL = 2,
};

struct cfg_vm {
	const char *name;
	uint32_t vcpus;
	uint64_t entry;         /* guest PC of vCPU 0 */
	const uint8_t *dtb;     /* the VM's device tree blob */
	uint64_t dtb_size;
	uint64_t dtb_gpa;       /* where it is loaded; vCPU 0 gets it in a1 */
	enum cfg_boot boot;
	uint64_t boot_tables;   /* CFG_BOOT_LINUX_X86: 7 pages for the GDT and page tables */
	enum cfg_policy on_shutdown, on_reboot, on_fault;
	uint32_t max_restarts;  /* restarts allowed by policy (0 = unlimited) */
	const struct cfg_region *regions;
	uint32_t nregions;
	const struct cfg_image *images;
	uint32_t nimages;
	const struct cfg_device *devices;
	uint32_t ndevices;
};

struct cfg_system {
	const char *name;       /* the config's file stem, e.g. "hello-pair" */
	uint32_t time_slice_us;
	const struct cfg_vm *vms;
	uint32_t nvms;
};

extern const struct cfg_system tessera_config;

#endif
