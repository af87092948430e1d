/* Pulls in the back end's per-vCPU and per-VM state (struct arch_vcpu,
 * struct arch_vm). Host unit tests of the core use empty stand-ins. */
#ifndef TESSERA_CORE_ARCH_TYPES_H
#define TESSERA_CORE_ARCH_TYPES_H

#if defined(TESSERA_HOST_TEST)
#include "lib/types.h"
struct arch_vcpu { uint64_t unused; };
struct arch_vm { uint64_t unused; };
#define ARCH_HAS_PLIC 1
#define ARCH_LAZY_RAM 1
#elif defined(__riscv)
#include "arch/riscv64/arch_types.h"
#elif defined(__x86_64__)
#include "arch/x86_64/arch_types.h"
#else
#error "unsupported architecture"
#endif

#endif
