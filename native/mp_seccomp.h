/* What both seccomp filters of measure share: the audit architecture of this build, which each
 * filter checks first (a syscall of a foreign ABI, say int 0x80, is refused). */
#ifndef MP_SECCOMP_H
#define MP_SECCOMP_H
#include <linux/audit.h>
#if defined(__x86_64__)
#define MP_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define MP_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif
#endif
