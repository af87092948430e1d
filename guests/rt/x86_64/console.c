/*
 * Console: polled 16550 transmit at I/O port rt.uart_port (each access is an
 * exit to Tessera, which is fine for test output). printf and the console
 * lock are in guests/common/printf.c. Without a UART (uart_port 0) output
 * is dropped.
 */
#include "rt.h"

#define UART_THR 0
#define UART_LSR 5
#define LSR_THRE 0x20

void rt_putc(char c)
{
    uint16_t port = rt.uart_port;

    if (!port)
        return;
    /* Bounded wait: a UART that never reports THRE must not hang us. */
    for (unsigned spin = 0; spin < 1000000; spin++)
        if (inb(port + UART_LSR) & LSR_THRE)
            break;
    outb(port + UART_THR, (uint8_t)c);
}
