/*
 * MC146818 RTC + 128 bytes of CMOS RAM at ports 0x70/0x71 (one instance
 * per VM; register with cmos_ops for 2 ports, off = port - 0x70).
 *
 * Port 0x70 (write): bits 0-6 select register 0-127, bit 7 = NMI disable
 * (stored, see cmos_nmi_masked(); reading port 0x70 returns 0xff).
 * Port 0x71: the selected register. 1-, 2- and 4-byte accesses inside the
 * range act like consecutive byte accesses; anything else returns -1.
 *
 * Time: the callback now(opaque, &sec, &nsec) gives the host wall clock
 * (seconds since 1970-01-01 00:00 UTC + ns). The RTC shows that plus an
 * offset the guest sets by writing the time registers. Registers 0-9 are
 * BCD or binary per status B.DM, hours 24h or 12h (bit 7 = PM) per B.24/12,
 * register 0x32 is the century (IBM convention, same encoding).
 * IRQ 8 (irq) is high while status C.IRQF is set (update-ended, periodic
 * and alarm interrupts); reading status C clears it.
 */
#ifndef TESSERA_DEVICES_CMOS_H
#define TESSERA_DEVICES_CMOS_H

#include "devices/device.h"

#define CMOS_BASE       0x70
#define CMOS_SPAN       2
#define CMOS_RAM_SIZE   128
#define CMOS_NO_EVENT   UINT64_MAX

/* register numbers */
#define CMOS_SECONDS    0x00
#define CMOS_SEC_ALARM  0x01
#define CMOS_MINUTES    0x02
#define CMOS_MIN_ALARM  0x03
#define CMOS_HOURS      0x04
#define CMOS_HOUR_ALARM 0x05
#define CMOS_WEEKDAY    0x06
#define CMOS_DAY        0x07
#define CMOS_MONTH      0x08
#define CMOS_YEAR       0x09
#define CMOS_STATUS_A   0x0a
#define CMOS_STATUS_B   0x0b
#define CMOS_STATUS_C   0x0c
#define CMOS_STATUS_D   0x0d
#define CMOS_CENTURY    0x32

struct cmos {
	uint8_t ram[CMOS_RAM_SIZE];     /* RAM; also A-D and the latched time */
	uint8_t index;                  /* selected register */
	bool nmi_masked;                /* bit 7 of the last index write */
	/* guest RTC time = host time + offset */
	int64_t off_sec;
	uint32_t off_nsec;
	/* guest RTC time up to which C's flags are accounted */
	int64_t last_sec;
	uint32_t last_nsec;
	bool frozen;                    /* B.SET or divider in reset: time latched in ram */
	struct irq_line irq;            /* IRQ 8 */
	bool irq_level;
	void (*now)(void *opaque, uint64_t *sec, uint32_t *nsec);
	void *opaque;
};

extern const struct dev_ops cmos_ops;

void cmos_init(struct cmos *c, struct irq_line irq8,
	       void (*now)(void *opaque, uint64_t *sec, uint32_t *nsec),
	       void *opaque);
void cmos_reset(void *dev);
int cmos_read(void *dev, uint64_t off, unsigned size, uint64_t *val);
int cmos_write(void *dev, uint64_t off, unsigned size, uint64_t val);
/* NMI disable bit (port 0x70 bit 7) as last written. */
bool cmos_nmi_masked(const struct cmos *c);
/* Account elapsed time: set C's flags and drive IRQ 8. */
void cmos_update(struct cmos *c);
/* ns from now until IRQ 8 would next rise, or CMOS_NO_EVENT. */
uint64_t cmos_next_event_in_ns(struct cmos *c);

#endif
