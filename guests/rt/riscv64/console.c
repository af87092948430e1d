/*
 * Console: polled 16550 transmit (byte registers, reg-shift from the DT),
 * falling back to SBI DBCN write_byte / legacy console_putchar when the DT
 * has no ns16550 node.  printf and the console lock are in
 * guests/common/printf.c.
 */
#include "rt.h"

#define UART_THR 0
#define UART_LSR 5
#define LSR_THRE 0x20

static int con_use_dbcn = -1;     /* -1 unknown, 0 legacy putchar, 1 DBCN */

static uint32_t uart_read(unsigned reg)
{
    uintptr_t a = rt.uart_base + ((uintptr_t)reg << rt.uart_shift);
    if (rt.uart_width == 4)
        return *(volatile uint32_t *)a;
    return *(volatile uint8_t *)a;
}

static void uart_write(unsigned reg, uint32_t v)
{
    uintptr_t a = rt.uart_base + ((uintptr_t)reg << rt.uart_shift);
    if (rt.uart_width == 4)
        *(volatile uint32_t *)a = v;
    else
        *(volatile uint8_t *)a = (uint8_t)v;
}

void rt_putc(char c)
{
    if (rt.uart_base) {
        /* Bounded wait: a UART that never reports THRE must not hang us. */
        for (unsigned spin = 0; spin < 1000000; spin++)
            if (uart_read(UART_LSR) & LSR_THRE)
                break;
        uart_write(UART_THR, (uint8_t)c);
        return;
    }
    if (con_use_dbcn < 0)
        con_use_dbcn = sbi_probe_extension(SBI_EXT_DBCN).value > 0;
    if (con_use_dbcn)
        sbi_dbcn_write_byte((unsigned char)c);
    else
        sbi_legacy(SBI_EXT_LEGACY_PUTCHAR, (unsigned char)c);
}
