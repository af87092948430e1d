/*
 * PCI configuration mechanism #1 with no devices behind it (one instance
 * per VM; register pci_stub_ops for 8 ports at 0xcf8, off = port - 0xcf8).
 *
 *   off 0-3  CONFIG_ADDRESS: a 4-byte access at off 0 reads/writes the
 *            register (bit 31 enable, bits 23-2 bus/device/function/
 *            register; reserved bits 30-24 and 1-0 read 0). Narrower
 *            accesses at off 0-3 read the matching bytes and are ignored
 *            on write (on PCs they reach other chipset registers).
 *   off 4-7  CONFIG_DATA: every read returns all-ones of its size (no
 *            device answers, whatever the address says); writes ignored.
 * Accesses of 1, 2 or 4 bytes that stay inside one of the two 4-byte
 * registers are accepted; others return -1.
 */
#ifndef TESSERA_DEVICES_PCI_STUB_H
#define TESSERA_DEVICES_PCI_STUB_H

#include "devices/device.h"

#define PCI_STUB_BASE 0xcf8
#define PCI_STUB_SPAN 8
#define PCI_STUB_ADDR_MASK 0x80fffffcu

struct pci_stub {
	uint32_t addr;                  /* CONFIG_ADDRESS */
	uint64_t cfg_reads, cfg_writes; /* CONFIG_DATA accesses (statistics) */
};

extern const struct dev_ops pci_stub_ops;

void pci_stub_init(struct pci_stub *p);
void pci_stub_reset(void *dev);
int pci_stub_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int pci_stub_write(void *dev, uint64_t off, unsigned size, uint64_t val);

#endif
