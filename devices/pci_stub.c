/*
 * PCI configuration ports answering "no device". See devices/pci_stub.h
 * and docs/devices.md.
 */
#include "devices/pci_stub.h"

#define DATA_OFF 4

static bool pci_access_ok(uint64_t off, unsigned size)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	if (off >= PCI_STUB_SPAN)
		return false;
	/* must stay inside CONFIG_ADDRESS (0-3) or CONFIG_DATA (4-7) */
	return (off % 4) + size <= 4;
}

void pci_stub_init(struct pci_stub *p)
{
	p->cfg_reads = 0;
	p->cfg_writes = 0;
	pci_stub_reset(p);
}

void pci_stub_reset(void *dev)
{
	struct pci_stub *p = dev;

	if (p)
		p->addr = 0;
}

int pci_stub_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct pci_stub *p = dev;

	if (!p || !val || !pci_access_ok(off, size))
		return -1;
	if (off >= DATA_OFF) {
		p->cfg_reads++;
		*val = size == 4 ? 0xffffffffULL : (1ULL << (8 * size)) - 1;
		return 0;
	}
	/* off 0..3, size fits: shift by at most 24 */
	*val = (p->addr >> (8 * off)) &
	       (size == 4 ? 0xffffffffULL : (1ULL << (8 * size)) - 1);
	return 0;
}

int pci_stub_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct pci_stub *p = dev;

	if (!p || !pci_access_ok(off, size))
		return -1;
	if (off >= DATA_OFF)
		p->cfg_writes++;
	else if (off == 0 && size == 4)
		p->addr = (uint32_t)val & PCI_STUB_ADDR_MASK;
	return 0;
}

const struct dev_ops pci_stub_ops = {
	.name = "pci-stub",
	.read = pci_stub_read,
	.write = pci_stub_write,
	.reset = pci_stub_reset,
};
