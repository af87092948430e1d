/* A fixed chunk of CPU-bound integer work (xorshift64), the unit of progress
 * of the CPU-hog guests (counter, spin-cli): same work, comparable counts. */
#include "rt.h"

uint64_t rt_work(uint64_t x)
{
    for (int i = 0; i < RT_WORK_STEPS; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}
