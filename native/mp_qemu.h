/* The qemu backend's region markers, shared by the worker's library (workerlib.c, which issues
 * them) and measure's QEMU plugin (qemu_icount.c, which counts between them): a syscall number
 * that no kernel has (far above any of x86_64 or aarch64), which QEMU hands to the plugin before
 * answering ENOSYS, and its first argument, the operation. measure/backends/qemu.py reads the
 * same operations back from the plugin's log. */
#ifndef MP_QEMU_H
#define MP_QEMU_H

#define MP_QEMU_MARK 0x4d45
enum { MP_QEMU_START = 1, MP_QEMU_STOP = 2, MP_QEMU_DENY = 3 };

#endif
