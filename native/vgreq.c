/* valgrind/callgrind client requests as plain C functions, built into a small shared
 * object with no Python in it, so that the worker can load it with ctypes from any
 * CPython version, whichever one measure itself was built for. Outside valgrind every
 * request is a no-op costing a handful of instructions. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define MP_HAVE_VALGRIND 1
#endif
#endif

#define EXPORT __attribute__((visibility("default")))

#ifdef MP_HAVE_VALGRIND
EXPORT int mp_vg_available(void) { return 1; }
EXPORT unsigned mp_vg_running(void) { return RUNNING_ON_VALGRIND; }
EXPORT void mp_vg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
EXPORT void mp_vg_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
EXPORT void mp_vg_zero(void) { CALLGRIND_ZERO_STATS; }
EXPORT void mp_vg_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
#else
EXPORT int mp_vg_available(void) { return 0; }
EXPORT unsigned mp_vg_running(void) { return 0; }
EXPORT void mp_vg_start(void) {}
EXPORT void mp_vg_stop(void) {}
EXPORT void mp_vg_zero(void) {}
EXPORT void mp_vg_dump(const char *name) { (void)name; }
#endif

/* A loop of exactly two instructions per iteration, for the backends' self-test: counting
 * mp_spin(2n) minus mp_spin(n) must give 2n (exactly under valgrind, within noise on a PMU). */
EXPORT void mp_spin(unsigned long n) {
    if (!n) return;
#if defined(__x86_64__)
    __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "cc");
#elif defined(__aarch64__)
    __asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
#else
    volatile unsigned long i = n;
    while (--i) {}
#endif
}
EXPORT int mp_spin_instructions_per_iteration(void) {
#if defined(__x86_64__) || defined(__aarch64__)
    return 2;
#else
    return 0; /* unknown: the self-test cannot check the slope */
#endif
}
