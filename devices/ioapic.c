/*
 * I/O APIC model. See devices/ioapic.h for the interface and
 * docs/devices.md for what is and is not emulated.
 *
 * Edge pins deliver one message per rising edge of their line while
 * unmasked (an edge while masked is lost, as on the 82093AA). Level pins
 * deliver when the line is asserted, the pin unmasked and remote IRR
 * clear; delivery sets remote IRR, and the EOI for the vector clears it
 * and re-delivers while the line is still asserted. Only fixed and
 * lowest-priority entries are level-triggered: SMI/NMI/INIT/ExtINT
 * entries always act as edge (their trigger bit is ignored).
 */
#include "devices/ioapic.h"

#define OFF_REGSEL 0x00
#define OFF_IOWIN  0x10
#define REG_ID     0x00
#define REG_VER    0x01
#define REG_ARB    0x02
#define REG_RTE    0x10
#define ID_MASK    0x0f000000u
#define RTE_LO_WMASK 0x0001afffULL      /* vector, DM, dest mode, polarity, trigger, mask */
#define RTE_HI_WMASK 0xff000000ULL

static unsigned rte_dm(uint64_t e)
{
	return (unsigned)(e >> IOAPIC_RTE_DM_SHIFT) & 7;
}

static bool rte_level(uint64_t e)
{
	return (e & IOAPIC_RTE_LEVEL) && rte_dm(e) <= 1;
}

static void ioapic_send(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];

	io->deliveries++;
	if (io->deliver)
		io->deliver(io->opaque, (uint32_t)(e >> IOAPIC_RTE_DEST_SHIFT),
			    (e & IOAPIC_RTE_LOGICAL) != 0, (uint8_t)rte_dm(e),
			    (uint8_t)(e & IOAPIC_RTE_VECTOR), rte_level(e));
}

/* Level pin: deliver if asserted, unmasked and not awaiting its EOI. */
static void ioapic_service_level(struct ioapic *io, unsigned pin)
{
	uint64_t *e = &io->rte[pin];

	if (!((io->level >> pin) & 1) || (*e & IOAPIC_RTE_MASKED) ||
	    (*e & IOAPIC_RTE_REMOTE_IRR))
		return;
	*e |= IOAPIC_RTE_REMOTE_IRR;
	ioapic_send(io, pin);
}

void ioapic_init(struct ioapic *io, uint8_t id,
		 void (*deliver)(void *opaque, uint32_t dest, bool dest_logical,
				 uint8_t delivery_mode, uint8_t vector,
				 bool level_triggered),
		 void *opaque)
{
	io->deliver = deliver;
	io->opaque = opaque;
	io->reset_id = ((uint32_t)id << 24) & ID_MASK;
	io->level = 0;
	io->deliveries = 0;
	ioapic_reset(io);
}

/* Every entry masked and zero, ID back to its initial value. Input line
 * levels are wires and are kept. */
void ioapic_reset(void *dev)
{
	struct ioapic *io = dev;
	unsigned i;

	if (!io)
		return;
	io->regsel = 0;
	io->id = io->reset_id;
	for (i = 0; i < IOAPIC_NPINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
}

void ioapic_set_irq(void *opaque, unsigned pin, bool level)
{
	struct ioapic *io = opaque;
	uint32_t bit;
	bool old;

	if (!io || pin >= IOAPIC_NPINS)
		return;
	bit = 1u << pin;
	old = (io->level & bit) != 0;
	if (level)
		io->level |= bit;
	else
		io->level &= ~bit;
	if (rte_level(io->rte[pin]))
		ioapic_service_level(io, pin);
	else if (level && !old && !(io->rte[pin] & IOAPIC_RTE_MASKED))
		ioapic_send(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	unsigned i;

	if (!io)
		return;
	for (i = 0; i < IOAPIC_NPINS; i++) {
		uint64_t *e = &io->rte[i];

		if ((*e & IOAPIC_RTE_VECTOR) != vector || !(*e & IOAPIC_RTE_REMOTE_IRR))
			continue;
		*e &= ~IOAPIC_RTE_REMOTE_IRR;
		if (rte_level(*e))
			ioapic_service_level(io, i);
	}
}

static uint32_t ioapic_reg_read(const struct ioapic *io, uint8_t reg)
{
	unsigned pin;

	switch (reg) {
	case REG_ID:
	case REG_ARB:
		return io->id;
	case REG_VER:
		return IOAPIC_VERSION;
	default:
		break;
	}
	if (reg < REG_RTE)
		return 0;
	pin = (reg - REG_RTE) / 2u;
	if (pin >= IOAPIC_NPINS)
		return 0;
	return (uint32_t)(io->rte[pin] >> (reg & 1 ? 32 : 0));
}

static void ioapic_reg_write(struct ioapic *io, uint8_t reg, uint32_t v)
{
	unsigned pin;
	uint64_t *e, ro;

	if (reg == REG_ID) {
		io->id = v & ID_MASK;
		return;
	}
	if (reg < REG_RTE)
		return;                 /* version, arbitration: read-only */
	pin = (reg - REG_RTE) / 2u;
	if (pin >= IOAPIC_NPINS)
		return;
	e = &io->rte[pin];
	if (reg & 1) {
		*e = (*e & 0xffffffffULL) | (((uint64_t)v & RTE_HI_WMASK) << 32);
		return;
	}
	ro = *e & (IOAPIC_RTE_STATUS | IOAPIC_RTE_REMOTE_IRR);
	*e = (*e & ~0xffffffffULL) | ((uint64_t)v & RTE_LO_WMASK) | ro;
	if (!rte_level(*e))
		*e &= ~IOAPIC_RTE_REMOTE_IRR;   /* edge pins have no remote IRR */
	else
		ioapic_service_level(io, pin);  /* e.g. unmasked while asserted */
}

static bool ioapic_access_ok(uint64_t off, unsigned size)
{
	return size == 4 && off < IOAPIC_MMIO_SIZE && (off & 3) == 0;
}

int ioapic_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct ioapic *io = dev;

	if (!io || !val || !ioapic_access_ok(off, size))
		return -1;
	if (off == OFF_REGSEL)
		*val = io->regsel;
	else if (off == OFF_IOWIN)
		*val = ioapic_reg_read(io, io->regsel);
	else
		*val = 0;
	return 0;
}

int ioapic_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct ioapic *io = dev;

	if (!io || !ioapic_access_ok(off, size))
		return -1;
	if (off == OFF_REGSEL)
		io->regsel = (uint8_t)val;
	else if (off == OFF_IOWIN)
		ioapic_reg_write(io, io->regsel, (uint32_t)val);
	return 0;
}

const struct dev_ops ioapic_ops = {
	.name = "ioapic",
	.read = ioapic_read,
	.write = ioapic_write,
	.reset = ioapic_reset,
};
