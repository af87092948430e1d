/*
 * libFuzzer harness: devices/ioapic.c. The input is a sequence of MMIO
 * reads and writes (any offset, size, value; IOREGSEL/IOWIN pairs made
 * likely), input line changes on pins 0-25, EOIs and resets. The harness
 * predicts every interrupt message from the register state before the
 * operation and checks, after every operation:
 *  - an access is accepted exactly when it is an aligned 4-byte access
 *    inside the 4 KiB window; a refused access changes nothing;
 *  - exactly the predicted deliver() calls happen, in pin order, with the
 *    entry's destination, mode, vector and trigger: edge pins once per
 *    rising edge while unmasked; level pins when asserted, unmasked and
 *    remote IRR clear (which delivery sets); an EOI clears remote IRR of
 *    the entries with that vector and re-delivers those still asserted;
 *  - remote IRR is only ever set on a level entry, and a level entry whose
 *    line is asserted and which is unmasked always has it set (nothing
 *    is left undelivered); delivery status and reserved bits read 0;
 *  - reads return the ID, version, arbitration ID and entry halves.
 */
#include "tests/fuzz/fuzz_common.h"
#include "devices/ioapic.h"

#define LO_BITS 0x0001efffULL   /* writable low bits + remote IRR */

struct msg {
	uint32_t dest;
	bool logical, level;
	uint8_t dm, vector;
};

static struct msg got[64];
static unsigned ngot;

static void deliver(void *opaque, uint32_t dest, bool logical, uint8_t dm,
		    uint8_t vector, bool level)
{
	(void)opaque;
	CHECK(ngot < 64);
	got[ngot++] = (struct msg){ dest, logical, level, dm, vector };
}

static bool is_level(uint64_t e)
{
	return (e & IOAPIC_RTE_LEVEL) && ((e >> 8) & 7) <= 1;
}

static struct msg msg_of(uint64_t e)
{
	return (struct msg){ (uint32_t)(e >> 56), (e >> 11) & 1, is_level(e),
			     (uint8_t)((e >> 8) & 7), (uint8_t)e };
}

static void check_msgs(const struct msg *want, unsigned n)
{
	CHECK(ngot == n);
	for (unsigned i = 0; i < n; i++)
		CHECK(got[i].dest == want[i].dest && got[i].logical == want[i].logical &&
		      got[i].level == want[i].level && got[i].dm == want[i].dm &&
		      got[i].vector == want[i].vector);
}

static void check_state(const struct ioapic *io)
{
	CHECK((io->id & ~0x0f000000u) == 0);
	for (unsigned p = 0; p < IOAPIC_NPINS; p++) {
		uint64_t e = io->rte[p];

		CHECK((e & 0xffffffffULL & ~LO_BITS) == 0);
		CHECK(((e >> 32) & 0x00ffffffULL) == 0);
		if (e & IOAPIC_RTE_REMOTE_IRR)
			CHECK(is_level(e));
		if (is_level(e) && ((io->level >> p) & 1) && !(e & IOAPIC_RTE_MASKED))
			CHECK(e & IOAPIC_RTE_REMOTE_IRR);
	}
}

static uint32_t ref_reg(const struct ioapic *io, uint8_t reg)
{
	if (reg == 0 || reg == 2)
		return io->id;
	if (reg == 1)
		return IOAPIC_VERSION;
	if (reg >= 0x10 && reg < 0x10 + 2 * IOAPIC_NPINS)
		return (uint32_t)(io->rte[(reg - 0x10) / 2] >> (reg & 1 ? 32 : 0));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sizes[4] = { 4, 4, 1, 8 };
	struct in in = { data, size };
	struct ioapic io;
	struct msg want[64];
	unsigned nwant;

	ngot = 0;
	ioapic_init(&io, in_u8(&in), deliver, NULL);
	check_state(&io);
	for (int ops = 0; in_left(&in) && ops < 4096; ops++) {
		uint8_t op = in_u8(&in), a = in_u8(&in);
		struct ioapic before = io;
		uint64_t off, v;
		unsigned sz = sizes[a & 3];
		bool ok;
		int r;

		switch (a >> 6) {
		case 0: off = 0; break;
		case 1: off = 0x10; break;
		case 2: off = (a & 0x3c) << 4 | (a & 0x0c) >> 2; break;
		default: off = in_u64(&in) & (op & 0x80 ? ~0ULL : 0x1fff); break;
		}
		ok = sz == 4 && off < IOAPIC_MMIO_SIZE && (off & 3) == 0;
		ngot = 0;
		nwant = 0;
		switch (op & 7) {
		case 0: case 1:
			v = 0x1234567890abcdefULL;
			r = ioapic_read(&io, off, sz, &v);
			CHECK(r == (ok ? 0 : -1));
			if (r) {
				CHECK(v == 0x1234567890abcdefULL);
				break;
			}
			CHECK(memcmp(&before, &io, sizeof(io)) == 0);
			if (off == 0)
				CHECK(v == io.regsel);
			else if (off == 0x10)
				CHECK(v == ref_reg(&io, io.regsel));
			else
				CHECK(v == 0);
			break;
		case 2: case 3: case 4:
			v = (op & 7) == 4 ? in_u8(&in) : in_bytes(&in, 4);
			if ((op & 7) == 3)
				v = (v & ~0x1f000ULL) | ((uint64_t)(op & 0x70) << 9);
			if (op & 0x80)
				v |= in_u64(&in) << 32;
			if (ok && off == 0x10 && io.regsel >= 0x10 &&
			    io.regsel < 0x10 + 2 * IOAPIC_NPINS && !(io.regsel & 1)) {
				unsigned p = (io.regsel - 0x10u) / 2u;
				uint64_t e = (io.rte[p] & ~0xffffffffULL) |
					     ((uint64_t)(uint32_t)v & 0x1afffULL) |
					     (io.rte[p] & IOAPIC_RTE_REMOTE_IRR);

				if (is_level(e) && ((io.level >> p) & 1) &&
				    !(e & IOAPIC_RTE_MASKED) && !(e & IOAPIC_RTE_REMOTE_IRR))
					want[nwant++] = msg_of(e);
			}
			r = ioapic_write(&io, off, sz, v);
			CHECK(r == (ok ? 0 : -1));
			if (r)
				CHECK(memcmp(&before, &io, sizeof(io)) == 0);
			else if (off == 0)
				CHECK(io.regsel == (uint8_t)v);
			else if (off == 0x10 && io.regsel == 0)
				CHECK(io.id == ((uint32_t)v & 0x0f000000u));
			else if (off == 0x10 && io.regsel >= 0x10 &&
				 io.regsel < 0x10 + 2 * IOAPIC_NPINS) {
				uint32_t rb = ref_reg(&io, io.regsel);
				uint32_t wm = io.regsel & 1 ? 0xff000000u : 0x1afffu;

				CHECK((rb & wm) == ((uint32_t)v & wm));
			} else {
				/* other offsets, read-only or missing registers */
				CHECK(memcmp(&before, &io, sizeof(io)) == 0);
			}
			break;
		case 5: case 6: {
			unsigned p = a % 26;
			bool lvl = op & 0x80;

			if (p < IOAPIC_NPINS) {
				uint64_t e = io.rte[p];
				bool old = (io.level >> p) & 1;

				if (is_level(e)) {
					if (lvl && !(e & IOAPIC_RTE_MASKED) &&
					    !(e & IOAPIC_RTE_REMOTE_IRR))
						want[nwant++] = msg_of(e);
				} else if (lvl && !old && !(e & IOAPIC_RTE_MASKED)) {
					want[nwant++] = msg_of(e);
				}
			}
			ioapic_set_irq(&io, p, lvl);
			if (p >= IOAPIC_NPINS)
				CHECK(memcmp(&before, &io, sizeof(io)) == 0);
			else
				CHECK(((io.level >> p) & 1) == lvl);
			break;
		}
		default:
			if (op & 0x80) {
				ioapic_reset(&io);
				CHECK(io.level == before.level);
				for (unsigned p = 0; p < IOAPIC_NPINS; p++)
					CHECK(io.rte[p] == IOAPIC_RTE_MASKED);
			} else {
				uint8_t vec = (op & 0x40) ? (uint8_t)io.rte[a % 24] : in_u8(&in);

				for (unsigned p = 0; p < IOAPIC_NPINS; p++) {
					uint64_t e = io.rte[p];

					if ((uint8_t)e == vec && (e & IOAPIC_RTE_REMOTE_IRR) &&
					    ((io.level >> p) & 1) && !(e & IOAPIC_RTE_MASKED))
						want[nwant++] = msg_of(e);
				}
				ioapic_eoi(&io, vec);
				for (unsigned p = 0; p < IOAPIC_NPINS; p++)
					if ((uint8_t)io.rte[p] == vec && !((io.level >> p) & 1))
						CHECK(!(io.rte[p] & IOAPIC_RTE_REMOTE_IRR));
				CHECK(ioapic_read(NULL, 0, 4, &v) == -1);
				CHECK(ioapic_read(&io, 0, 4, NULL) == -1);
				CHECK(ioapic_write(NULL, 0, 4, 0) == -1);
				ioapic_set_irq(NULL, 0, true);
				ioapic_eoi(NULL, 0);
			}
			break;
		}
		check_msgs(want, nwant);
		CHECK(io.deliveries == before.deliveries + nwant);
		check_state(&io);
	}
	return 0;
}
