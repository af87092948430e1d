/*
 * SBI calls for Tessera's riscv64 test guests (own runtime, no hypervisor
 * headers).  ecall from S-mode: a7 = EID, a6 = FID, a0..a5 = arguments;
 * returns a0 = error, a1 = value.  Legacy extensions (EID 0x00..0x0F) return
 * only a0.
 */
#ifndef GUEST_RT_SBI_H
#define GUEST_RT_SBI_H

struct sbiret {
    long error;
    long value;
};

/* Extension ids */
#define SBI_EXT_LEGACY_PUTCHAR  0x01UL
#define SBI_EXT_LEGACY_GETCHAR  0x02UL
#define SBI_EXT_LEGACY_SHUTDOWN 0x08UL
#define SBI_EXT_BASE            0x10UL
#define SBI_EXT_TIME            0x54494D45UL
#define SBI_EXT_IPI             0x735049UL
#define SBI_EXT_RFENCE          0x52464E43UL
#define SBI_EXT_HSM             0x48534DUL
#define SBI_EXT_SRST            0x53525354UL
#define SBI_EXT_PMU             0x504D55UL
#define SBI_EXT_DBCN            0x4442434EUL
#define SBI_EXT_TESSERA         0x0A545353UL   /* firmware-specific range */

/* BASE function ids */
#define SBI_BASE_GET_SPEC_VERSION 0
#define SBI_BASE_GET_IMPL_ID      1
#define SBI_BASE_GET_IMPL_VERSION 2
#define SBI_BASE_PROBE_EXT        3
#define SBI_BASE_GET_MVENDORID    4
#define SBI_BASE_GET_MARCHID      5
#define SBI_BASE_GET_MIMPID       6

/* HSM */
#define SBI_HSM_HART_START      0
#define SBI_HSM_HART_STOP       1
#define SBI_HSM_HART_GET_STATUS 2
#define SBI_HSM_HART_SUSPEND    3
#define SBI_HSM_STATE_STARTED       0
#define SBI_HSM_STATE_STOPPED       1
#define SBI_HSM_STATE_START_PENDING 2
#define SBI_HSM_STATE_STOP_PENDING  3
#define SBI_HSM_STATE_SUSPENDED     4
#define SBI_HSM_SUSPEND_RET_DEFAULT    0x00000000UL
#define SBI_HSM_SUSPEND_NONRET_DEFAULT 0x80000000UL

/* SRST */
#define SBI_SRST_SHUTDOWN    0
#define SBI_SRST_COLD_REBOOT 1
#define SBI_SRST_WARM_REBOOT 2
#define SBI_SRST_REASON_NONE    0
#define SBI_SRST_REASON_SYSFAIL 1

/* Tessera vendor extension */
#define SBI_TESSERA_VM_ID   0
#define SBI_TESSERA_VCPU_ID 1
#define SBI_TESSERA_YIELD   2
#define SBI_TESSERA_RESTARTS     3

/* Error codes */
#define SBI_SUCCESS               0
#define SBI_ERR_FAILED           -1
#define SBI_ERR_NOT_SUPPORTED    -2
#define SBI_ERR_INVALID_PARAM    -3
#define SBI_ERR_DENIED           -4
#define SBI_ERR_INVALID_ADDRESS  -5
#define SBI_ERR_ALREADY_AVAILABLE -6
#define SBI_ERR_ALREADY_STARTED  -7
#define SBI_ERR_ALREADY_STOPPED  -8

static inline struct sbiret sbi_ecall(unsigned long eid, unsigned long fid,
                                      unsigned long arg0, unsigned long arg1,
                                      unsigned long arg2, unsigned long arg3,
                                      unsigned long arg4, unsigned long arg5)
{
    register unsigned long a0 __asm__("a0") = arg0;
    register unsigned long a1 __asm__("a1") = arg1;
    register unsigned long a2 __asm__("a2") = arg2;
    register unsigned long a3 __asm__("a3") = arg3;
    register unsigned long a4 __asm__("a4") = arg4;
    register unsigned long a5 __asm__("a5") = arg5;
    register unsigned long a6 __asm__("a6") = fid;
    register unsigned long a7 __asm__("a7") = eid;
    __asm__ volatile("ecall"
                     : "+r"(a0), "+r"(a1)
                     : "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a6), "r"(a7)
                     : "memory");
    struct sbiret r = { (long)a0, (long)a1 };
    return r;
}

#define sbi_call0(e, f)                 sbi_ecall((e), (f), 0, 0, 0, 0, 0, 0)
#define sbi_call1(e, f, x)              sbi_ecall((e), (f), (x), 0, 0, 0, 0, 0)
#define sbi_call2(e, f, x, y)           sbi_ecall((e), (f), (x), (y), 0, 0, 0, 0)
#define sbi_call3(e, f, x, y, z)        sbi_ecall((e), (f), (x), (y), (z), 0, 0, 0)

/* Legacy (v0.1) call: only a0 comes back. */
static inline long sbi_legacy(unsigned long eid, unsigned long arg0)
{
    register unsigned long a0 __asm__("a0") = arg0;
    register unsigned long a1 __asm__("a1") = 0;
    register unsigned long a7 __asm__("a7") = eid;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a7) : "memory");
    return (long)a0;
}

/* BASE */
static inline struct sbiret sbi_get_spec_version(void) { return sbi_call0(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION); }
static inline struct sbiret sbi_get_impl_id(void)      { return sbi_call0(SBI_EXT_BASE, SBI_BASE_GET_IMPL_ID); }
static inline struct sbiret sbi_get_impl_version(void) { return sbi_call0(SBI_EXT_BASE, SBI_BASE_GET_IMPL_VERSION); }
static inline struct sbiret sbi_probe_extension(unsigned long eid) { return sbi_call1(SBI_EXT_BASE, SBI_BASE_PROBE_EXT, eid); }

/* TIME */
static inline struct sbiret sbi_set_timer(unsigned long stime) { return sbi_call1(SBI_EXT_TIME, 0, stime); }

/* IPI / RFENCE */
static inline struct sbiret sbi_send_ipi(unsigned long mask, unsigned long base) { return sbi_call2(SBI_EXT_IPI, 0, mask, base); }

/* HSM */
static inline struct sbiret sbi_hart_start(unsigned long hartid, unsigned long addr, unsigned long opaque)
{ return sbi_call3(SBI_EXT_HSM, SBI_HSM_HART_START, hartid, addr, opaque); }
static inline struct sbiret sbi_hart_stop(void) { return sbi_call0(SBI_EXT_HSM, SBI_HSM_HART_STOP); }
static inline struct sbiret sbi_hart_get_status(unsigned long hartid) { return sbi_call1(SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, hartid); }
static inline struct sbiret sbi_hart_suspend(unsigned long type, unsigned long resume, unsigned long opaque)
{ return sbi_call3(SBI_EXT_HSM, SBI_HSM_HART_SUSPEND, type, resume, opaque); }

/* SRST */
static inline struct sbiret sbi_system_reset(unsigned long type, unsigned long reason) { return sbi_call2(SBI_EXT_SRST, 0, type, reason); }

/* DBCN: addresses are guest-physical (== virtual, the MMU is off). */
static inline struct sbiret sbi_dbcn_write(unsigned long len, const void *buf)
{ return sbi_call3(SBI_EXT_DBCN, 0, len, (unsigned long)buf, 0); }
static inline struct sbiret sbi_dbcn_read(unsigned long len, void *buf)
{ return sbi_call3(SBI_EXT_DBCN, 1, len, (unsigned long)buf, 0); }
static inline struct sbiret sbi_dbcn_write_byte(unsigned char b) { return sbi_call1(SBI_EXT_DBCN, 2, b); }

/* Tessera vendor extension */
static inline struct sbiret sbi_tessera_vm_id(void)   { return sbi_call0(SBI_EXT_TESSERA, SBI_TESSERA_VM_ID); }
static inline struct sbiret sbi_tessera_vcpu_id(void) { return sbi_call0(SBI_EXT_TESSERA, SBI_TESSERA_VCPU_ID); }
static inline struct sbiret sbi_tessera_yield(void)   { return sbi_call0(SBI_EXT_TESSERA, SBI_TESSERA_YIELD); }
static inline struct sbiret sbi_tessera_restarts(void) { return sbi_call0(SBI_EXT_TESSERA, SBI_TESSERA_RESTARTS); }

#endif
