/*
 * A seeded PRNG for the guests that need replayable randomness (chaos):
 * xorshift64* over rt_rng_state, seeded through splitmix64.
 */
#include "rt_common.h"

uint64_t rt_rng_state = 1;

uint64_t rt_splitmix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t rt_rnd(void)
{
    uint64_t x = rt_rng_state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rt_rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

uint64_t rt_below(uint64_t n)
{
    return n ? rt_rnd() % n : 0;
}
