/*
 * hello: says hello once through the 16550 UART and once through SBI DBCN,
 * then shuts the VM down (or, with bootargs reboot=1, reboots it).
 */
#include "rt.h"

void gmain(unsigned long hartid, const void *fdt)
{
    (void)fdt;
    struct sbiret id = sbi_tessera_vm_id();
    long vm = id.error ? -1 : id.value;     /* -1: no Tessera extension */

    printf("hello from %s: vm id %ld hart %lu\n", rt.vm_name, vm, hartid);

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

    if (rt_arg_ulong("reboot", 0)) {
        printf("hello: rebooting\n");
        rt_reboot(0);
    }
    printf("hello: done\n");
    rt_shutdown();
}
