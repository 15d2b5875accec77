/* What both seccomp filters of measure share: the audit architecture of this build, which each
 * filter checks first (a syscall of a foreign ABI, say int 0x80, is refused). */
#ifndef MP_SECCOMP_H
#define MP_SECCOMP_H
#include <errno.h>
#include <linux/audit.h>

/* 0 and the architecture in *arch, or -1 with errno ENOSYS where no filter is written for it. */
static inline int mp_audit_arch(unsigned *arch) {
#if defined(__x86_64__)
    *arch = AUDIT_ARCH_X86_64;
    return 0;
#elif defined(__aarch64__)
    *arch = AUDIT_ARCH_AARCH64;
    return 0;
#else
    (void)arch;
    errno = ENOSYS;
    return -1;
#endif
}
#endif
