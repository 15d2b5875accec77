/* The qemu backend's counter: a TCG plugin for QEMU user mode (qemu-x86_64, qemu-aarch64) that
 * counts the guest instructions of the worker's regions, exactly.
 *
 * Plugin API: version 1, as QEMU 7.2 (Debian 12's qemu-user) offers it. Debian ships neither the
 * header nor any plugin, so the few declarations used are written out below; QEMU refuses to load
 * a plugin whose API version it does not support, and measure reports that refusal with its
 * remedy (backends/qemu.py).
 *
 *   qemu-<isa> -cpu MODEL -plugin _qemu_icount.so,log=PATH[,budget=N]  python worker.py
 *
 * Counting: each translated block adds its instruction count to one counter (an inline add:
 * no callback per block, so the cost is the emulation's own). The guest's fork is a host fork,
 * so a forked call keeps the translations and its own copy of the counter.
 *
 * The worker marks its regions with a syscall no kernel has, MP_QEMU_MARK(op): QEMU hands it to this
 * plugin's syscall callback before answering ENOSYS. op START and STOP delimit a region; DENY,
 * issued by the fork server in each call's process before any code of the call runs, installs a
 * host seccomp filter on that process's emulation thread, so that the call can start no process,
 * thread or program (the guest's own seccomp is refused by QEMU).
 *
 * budget=N: a call's region may execute at most N instructions. DENY also starts a watcher thread
 * (before the filter, which would refuse it) that reads the counter every millisecond and kills
 * the process once its region is over N: a runaway call stops within a millisecond of emulation
 * past its budget, whatever the machine's load, and is logged as "budget PID" (the parent makes it
 * a right-censored timeout). A call that ends before the watcher looks is over budget by its count.
 *
 * Everything goes to the log, one write(2) per line (lines of concurrent processes never mix):
 *   install TARGET MIN CUR          at load, before any guest code
 *   mark PID OP                     every marker, whoever issues it (the parent's audit checks
 *                                   that each region has exactly the harness's own)
 *   region PID INSTRUCTIONS         at a STOP that follows a START in the same process
 *   spawn PID NR                    a process/thread creation inside a region
 *   touch PID NR                    a guest syscall naming the log's descriptor: the process is
 *                                   killed before QEMU performs it
 *   exec PID NR                     execve/execveat: the new program would run natively,
 *                                   uncounted; the process is killed before QEMU performs it
 *   budget PID INSTRUCTIONS         the region passed its budget: the process is killed
 * The log is opened here before the guest runs and then made root's by the parent, so the guest
 * (an unprivileged user) cannot reopen it; its descriptor is watched as above. What this cannot
 * stop: user mode shares one address space between the guest and QEMU, so guest code that finds
 * and writes this plugin's memory could change the counter (docs/security-model.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "mp_qemu.h"

/* ---- QEMU plugin API, version 1 (the part used here) ---- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t {
    const char *target_name;
    struct { int min; int cur; } version;
    bool system_emulation;
    union { struct { int smp_vcpus; int max_vcpus; } system; };
} qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(qemu_plugin_id_t, unsigned int, int64_t, uint64_t, uint64_t,
                                              uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, qemu_plugin_vcpu_tb_trans_cb_t);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *, enum qemu_plugin_op, void *, uint64_t);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t, qemu_plugin_vcpu_syscall_cb_t);
QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t, const qemu_info_t *, int, char **);
/* ---- end of the API ---- */

#define LOG_FD 1021     /* out of the way of the descriptors a program opens */

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "the qemu backend supports x86_64 and aarch64 hosts"
#endif

static uint64_t count;     /* guest instructions executed by this process so far */
static uint64_t region_at; /* count at the region's START */
static int in_region;      /* set after region_at (release), read before it (acquire) */
static uint64_t budget;    /* instructions a call's region may execute; 0: no budget */
static int logfd = -1;

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...) {
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0 && logfd >= 0) (void)!write(logfd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void die(void) {
    kill(getpid(), SIGKILL);
    _exit(137);
}

/* clone3 answers ENOSYS (libc falls back to clone); clone, fork, vfork, execve, execveat EPERM */
static int deny_spawn(void) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 5, 0),
#ifdef SYS_fork
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fork, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_vfork, 3, 0),
#else
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 3, 0),
#endif
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* The budget's watcher (budget=N): runs beside the emulation thread of one call's process. The
 * counter is written by that thread alone (an aligned 64-bit word: a read sees a whole value). */
static void *watch(void *arg) {
    (void)arg;
    const struct timespec tick = {0, 1000000};
    for (;;) {
        nanosleep(&tick, NULL);
        uint64_t now = __atomic_load_n(&count, __ATOMIC_RELAXED);
        if (__atomic_load_n(&in_region, __ATOMIC_ACQUIRE) && now - region_at > budget) {
            logline("budget %d %llu\n", (int)getpid(), (unsigned long long)(now - region_at));
            die();
        }
    }
    return NULL;
}

static bool spawns(int64_t nr) {
#ifdef SYS_fork
    if (nr == SYS_fork || nr == SYS_vfork) return true;
#endif
    return nr == SYS_clone || nr == SYS_clone3;
}

/* Calls whose first argument is a process, user or exit status, never a descriptor: a worker that
 * served many jobs reaches pid LOG_FD, and its waitpid(LOG_FD) is no touch of the log. */
static bool first_arg_is_no_fd(int64_t nr) {
    switch (nr) {
    case SYS_wait4: case SYS_waitid: case SYS_kill: case SYS_tkill: case SYS_tgkill: case SYS_exit:
    case SYS_exit_group: case SYS_setpgid: case SYS_getpgid: case SYS_getsid: case SYS_prlimit64:
    case SYS_rt_sigqueueinfo: case SYS_rt_tgsigqueueinfo: case SYS_sched_setparam: case SYS_sched_getparam:
    case SYS_sched_setscheduler: case SYS_sched_getscheduler: case SYS_sched_setaffinity:
    case SYS_sched_getaffinity: case SYS_sched_rr_get_interval: case SYS_get_robust_list:
    case SYS_process_vm_readv: case SYS_process_vm_writev: case SYS_kcmp: case SYS_setuid: case SYS_setgid:
    case SYS_setreuid: case SYS_setregid: case SYS_setresuid: case SYS_setresgid: case SYS_setfsuid:
    case SYS_setfsgid: case SYS_umask: case SYS_personality:
#ifdef SYS_alarm
    case SYS_alarm:
#endif
#ifdef SYS_pidfd_open
    case SYS_pidfd_open:
#endif
        return true;
    default:
        return false;
    }
}

/* Does guest syscall nr with these arguments name the log's descriptor? Every call whose first
 * argument may be a descriptor, plus those that take one elsewhere (dup2/dup3 target, mmap's fd,
 * sendfile/splice/copy_file_range's output, close_range's span). Over-broad is harmless: no
 * honest program uses descriptor LOG_FD. */
static bool touches_log(int64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a5) {
    const uint64_t fd = LOG_FD;
    if (a1 == fd && nr != MP_QEMU_MARK && !first_arg_is_no_fd(nr)) return true; /* read, write, close, ... */
#ifdef SYS_dup2
    if (nr == SYS_dup2 && a2 == fd) return true;
#endif
    if (nr == SYS_dup3 && a2 == fd) return true;
    if (nr == SYS_mmap && a5 == fd) return true;
    if (nr == SYS_sendfile && a2 == fd) return true;
    if ((nr == SYS_splice || nr == SYS_copy_file_range) && a3 == fd) return true;
    if (nr == SYS_tee && a2 == fd) return true;
#ifdef SYS_close_range
    if (nr == SYS_close_range && a1 <= fd && fd <= a2) return true;
#endif
    return false;
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &count, qemu_plugin_tb_n_insns(tb));
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
                       uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8) {
    (void)id; (void)vcpu; (void)a4; (void)a6; (void)a7; (void)a8;
    const uint64_t now = count;
    const int pid = (int)getpid();
    if (nr == MP_QEMU_MARK) {
        logline("mark %d %llu\n", pid, (unsigned long long)a1);
        if (a1 == MP_QEMU_START) {
            region_at = now;
            __atomic_store_n(&in_region, 1, __ATOMIC_RELEASE);
        } else if (a1 == MP_QEMU_STOP && in_region) {
            __atomic_store_n(&in_region, 0, __ATOMIC_RELEASE);
            logline("region %d %llu\n", pid, (unsigned long long)(now - region_at));
        } else if (a1 == MP_QEMU_DENY) {
            pthread_t t;
            if (budget && pthread_create(&t, NULL, watch, NULL) != 0) {
                logline("denyfail %d watcher\n", pid);
                die();
            }
            if (deny_spawn() < 0) {
                logline("denyfail %d %d\n", pid, errno);
                die();
            }
        }
        return;
    }
    if (touches_log(nr, a1, a2, a3, a5)) {
        logline("touch %d %lld\n", pid, (long long)nr);
        die();
    }
    if (nr == SYS_execve || nr == SYS_execveat) {
        logline("exec %d %lld\n", pid, (long long)nr);
        die();
    }
    if (in_region && spawns(nr)) logline("spawn %d %lld\n", pid, (long long)nr);
    /* End the process here, before QEMU's own exit path: QEMU 7.2 flushes its whole translation
     * cache at a guest's exit (for its plugins), which in a forked call's process writes, and so
     * copies, every page of the cache it shares with the fork server: about half of a call's fixed
     * cost. Nothing of QEMU's needs that path in user mode without gdb; the status is the guest's. */
    if (nr == SYS_exit_group) _exit((int)(a1 & 0xff));
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "log=", 4)) path = argv[i] + 4;
        else if (!strncmp(argv[i], "budget=", 7)) budget = strtoull(argv[i] + 7, NULL, 10);
        else {
            fprintf(stderr, "measure's qemu plugin: unknown argument %s\n", argv[i]);
            return 1;
        }
    }
    if (info->system_emulation) {
        fprintf(stderr, "measure's qemu plugin counts user-mode emulation only (qemu-<isa>, not qemu-system-*)\n");
        return 1;
    }
    if (!path) {
        fprintf(stderr, "measure's qemu plugin: log=PATH is required\n");
        return 1;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        fprintf(stderr, "measure's qemu plugin: cannot open its log %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (fd != LOG_FD) {
        if (dup3(fd, LOG_FD, O_CLOEXEC) < 0) {
            fprintf(stderr, "measure's qemu plugin: dup3: %s\n", strerror(errno));
            return 1;
        }
        close(fd);
    }
    logfd = LOG_FD;
    logline("install %s %d %d\n", info->target_name, info->version.min, info->version.cur);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    return 0;
}
