/*
 * libFuzzer harness: the two stateless-ish PC port models,
 * devices/pci_stub.c (0xcf8-0xcff) and devices/debugport.c (0x80), driven
 * by one sequence of reads and writes of any offset, size and value.
 * After every operation:
 *  - pci_stub: accepted exactly when the size is 1, 2 or 4 and the access
 *    stays inside CONFIG_ADDRESS (0-3) or CONFIG_DATA (4-7); refused
 *    changes nothing, not even *val; CONFIG_ADDRESS changes only by a
 *    4-byte write at 0 (masked to 0x80fffffc) and reads back its bytes;
 *    CONFIG_DATA reads all-ones of the size; the counters count exactly;
 *  - debugport: accepted exactly for 1-byte accesses at 0; reads return
 *    the last byte written (0xff after reset); writes are counted.
 */
#include "tests/fuzz/fuzz_common.h"
#include "devices/debugport.h"
#include "devices/pci_stub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sizes[8] = { 1, 2, 4, 4, 8, 3, 0, 16 };
	struct in in = { data, size };
	struct pci_stub p;
	struct debugport d;
	uint32_t ref_addr = 0;
	int ref_last = 0xff;

	pci_stub_init(&p);
	debugport_init(&d);
	for (int ops = 0; in_left(&in) && ops < 4096; ops++) {
		uint8_t op = in_u8(&in);
		unsigned sz = sizes[(op >> 3) & 7];
		uint64_t off = op & 0x40 ? in_u64(&in) : (uint64_t)(in_u8(&in) & 0x0f);
		struct pci_stub pb = p;
		struct debugport db = d;
		bool pok = (sz == 1 || sz == 2 || sz == 4) && off < 8 && off % 4 + sz <= 4;
		bool dok = off == 0 && sz == 1;
		uint64_t v, mask = sz >= 8 ? ~0ULL : (1ULL << (8 * sz)) - 1;
		int r;

		switch (op & 7) {
		case 0: case 1:
			v = 0xA5A5A5A5A5A5A5A5ULL;
			r = pci_stub_read(&p, off, sz, &v);
			CHECK(r == (pok ? 0 : -1));
			if (r) {
				CHECK(v == 0xA5A5A5A5A5A5A5A5ULL);
				CHECK(memcmp(&pb, &p, sizeof(p)) == 0);
			} else if (off >= 4) {
				CHECK(v == mask);
				CHECK(p.cfg_reads == pb.cfg_reads + 1);
			} else {
				CHECK(v == ((ref_addr >> (8 * off)) & mask));
				CHECK(memcmp(&pb, &p, sizeof(p)) == 0);
			}
			break;
		case 2: case 3:
			v = in_bytes(&in, op & 0x80 ? 8 : 4);
			r = pci_stub_write(&p, off, sz, v);
			CHECK(r == (pok ? 0 : -1));
			if (!r && off == 0 && sz == 4)
				ref_addr = (uint32_t)v & 0x80fffffcu;
			if (!r && off >= 4)
				CHECK(p.cfg_writes == pb.cfg_writes + 1);
			else
				CHECK(p.cfg_writes == pb.cfg_writes);
			CHECK(p.cfg_reads == pb.cfg_reads);
			break;
		case 4:
			v = 0xA5A5A5A5A5A5A5A5ULL;
			r = debugport_read(&d, off, sz, &v);
			CHECK(r == (dok ? 0 : -1));
			CHECK(v == (r ? 0xA5A5A5A5A5A5A5A5ULL : (uint64_t)ref_last));
			CHECK(memcmp(&db, &d, sizeof(d)) == 0);
			break;
		case 5: case 6:
			v = in_u64(&in);
			r = debugport_write(&d, off, sz, v);
			CHECK(r == (dok ? 0 : -1));
			if (!r)
				ref_last = (uint8_t)v;
			CHECK(d.writes == db.writes + (r ? 0 : 1));
			break;
		default:
			if (op & 0x80) {
				pci_stub_ops.reset(&p);
				debugport_ops.reset(&d);
				ref_addr = 0;
				ref_last = 0xff;
				CHECK(d.writes == db.writes);
			} else {
				CHECK(pci_stub_read(NULL, 0, 4, &v) == -1);
				CHECK(pci_stub_read(&p, 0, 4, NULL) == -1);
				CHECK(pci_stub_write(NULL, 0, 4, 0) == -1);
				CHECK(debugport_read(NULL, 0, 1, &v) == -1);
				CHECK(debugport_read(&d, 0, 1, NULL) == -1);
				CHECK(debugport_write(NULL, 0, 1, 0) == -1);
				pci_stub_reset(NULL);
				debugport_reset(NULL);
			}
			break;
		}
		CHECK(p.addr == ref_addr && d.last == ref_last);
	}
	return 0;
}
