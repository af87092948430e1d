/*
 * hello: says hello through the 16550 UART, then shuts the VM down (or, with
 * bootargs reboot=1, reboots it).  One source for every architecture:
 *   riscv64  a second hello through SBI DBCN
 *   x86_64   which hypercall instruction the runtime uses (vmmcall on AMD,
 *            vmcall on Intel)
 */
#include "rt.h"

#if defined(__riscv)
static void hello_arch(long vm, unsigned long hartid)
{
    char line[128];
    int len = snprintf(line, sizeof(line), "hello via dbcn from %s: vm id %ld hart %lu\n",
                       rt.vm_name, vm, hartid);
    if (len >= (int)sizeof(line))
        len = (int)sizeof(line) - 1;
    const char *p = line;
    long left = len;
    int tries = 0;
    while (left > 0 && tries++ < 16) {      /* DBCN may write fewer bytes than asked */
        struct sbiret r = sbi_dbcn_write((unsigned long)left, p);
        if (r.error) {
            printf("hello: dbcn write failed error=%ld\n", r.error);
            break;
        }
        p += r.value;
        left -= r.value;
    }
}
#elif defined(__x86_64__)
static void hello_arch(long vm, unsigned long hartid)
{
    (void)vm;
    (void)hartid;
    printf("hello: hypercall instruction %s\n", rt_hypercall_insn());
}
#endif

void gmain(unsigned long hartid, const void *boot)
{
    (void)boot;
    long vm = rt_vm_id();                   /* -1: not under Tessera */

    printf("hello from %s: vm id %ld hart %lu\n", rt.vm_name, vm, hartid);
    hello_arch(vm, hartid);

    if (rt_arg_ulong("reboot", 0)) {
        printf("hello: rebooting\n");
        rt_reboot(0);
    }
    printf("hello: done\n");
    rt_shutdown();
}
