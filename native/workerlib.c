/* The worker's native helpers, in a small shared object with no Python in it, so that the
 * worker can load it with ctypes from any CPython version, whichever one measure itself was
 * built for:
 *   - valgrind/callgrind client requests (no-ops costing a handful of instructions outside valgrind);
 *   - mp_spin, a loop of known instruction count for the backends' self-test;
 *   - mp_serve, the fork server that gives every counted call the same starting state. */
#define _GNU_SOURCE
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include "mp_qemu.h"
#include "mp_seccomp.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
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
/* The end of a region: the dump and the stop back to back, so that the instructions callgrind
 * still collects after the dump (its "Collected" total at exit, less the dumps' totals) are a
 * constant of this build, which the parent checks to tell a genuine dump from a rewritten one.
 * Never inlined: every region ends through the same instructions. */
EXPORT __attribute__((noinline)) void mp_vg_end(const char *name) {
    CALLGRIND_DUMP_STATS_AT(name);
    CALLGRIND_STOP_INSTRUMENTATION;
}
#else
EXPORT int mp_vg_available(void) { return 0; }
EXPORT unsigned mp_vg_running(void) { return 0; }
EXPORT void mp_vg_start(void) {}
EXPORT void mp_vg_stop(void) {}
EXPORT void mp_vg_zero(void) {}
EXPORT void mp_vg_dump(const char *name) { (void)name; }
EXPORT void mp_vg_end(const char *name) { (void)name; }
#endif

/* CPUID as the calling process sees it: under valgrind, the CPU that valgrind presents, not the
 * host's (measure.dispatch). out: eax, ebx, ecx, edx. Returns -1 where there is no CPUID. */
EXPORT int mp_cpuid(unsigned leaf, unsigned sub, unsigned *out) {
#if defined(__x86_64__) || defined(__i386__)
    __cpuid_count(leaf, sub, out[0], out[1], out[2], out[3]);
    return 0;
#else
    (void)leaf; (void)sub; (void)out;
    return -1;
#endif
}

/* Block every signal: after a call's region no handler of the candidate may run (one that did
 * could still change the result it returned, uncounted). */
EXPORT void mp_block_signals(void) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
}

/* The end of a call's region: signals blocked (inside the region), then the dump and the stop. */
EXPORT void mp_region_end(const char *name) {
    mp_block_signals();
    mp_vg_end(name);
}

/* The qemu backend's region markers (mp_qemu.h); natively the syscall only answers ENOSYS. */
EXPORT void mp_qemu_start(void) { syscall(MP_QEMU_MARK, (long)MP_QEMU_START); }
EXPORT void mp_qemu_stop(void) { syscall(MP_QEMU_MARK, (long)MP_QEMU_STOP); }
/* the end of a call's region under qemu: signals blocked (inside the region), then the stop */
EXPORT void mp_qemu_end(void) {
    mp_block_signals();
    mp_qemu_stop();
}

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

/* The fork server. The worker calls it (through ctypes.PyDLL, so the GIL stays held and no
 * other Python thread runs) once the candidate is loaded. It forks n times; each child returns
 * its index k in [0, n) to Python and runs one call. Between forks the parent runs only this C
 * code, which neither allocates (no malloc: the heap every child inherits stays as it was) nor
 * touches the Python heap, so every child starts from exactly the same state: the count of a
 * call never depends on the calls before it.
 *
 * Each child, before it returns to Python: its own process group (when not init of a PID
 * namespace) and, with deny_spawn, a seccomp filter that refuses every new process and thread
 * (clone, fork, vfork; clone3 answers ENOSYS so that libc falls back to clone): the work of a
 * call is the work of that one process, so a count can never miss a helper.
 *
 * After each child: every process it left behind is killed (as init of a PID namespace:
 * kill(-1); otherwise the child's process group) and reaped; a frame
 * {"t":"reaped","k":..,"pid":..,"exit":..,"signal":..} goes to report_fd; the server waits for one
 * byte on ack_fd (the parent has read what the call left in run_dir: its output, its dump), then
 * empties run_dir, so the next call finds exactly what the first one found: nothing.
 * Returns -1 in the parent when done, or -2 - errno if a fork, the report or the wipe failed. */
static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One frame of the protocol (measure/wire.py): a 4-byte big-endian length, then the JSON body. */
static int send_frame(int fd, const char *body, int len) {
    char frame[256];
    if (len < 0 || len > (int)sizeof frame - 4) { errno = EOVERFLOW; return -1; }
    frame[0] = (char)((len >> 24) & 0xff);
    frame[1] = (char)((len >> 16) & 0xff);
    frame[2] = (char)((len >> 8) & 0xff);
    frame[3] = (char)(len & 0xff);
    memcpy(frame + 4, body, (size_t)len);
    return write_all(fd, frame, (size_t)len + 4);
}

static int status_frame(char *body, size_t size, const char *type, int k, pid_t pid, int st) {
    char ex[16] = "null", sg[16] = "null";
    if (WIFEXITED(st)) snprintf(ex, sizeof ex, "%d", WEXITSTATUS(st));
    if (WIFSIGNALED(st)) snprintf(sg, sizeof sg, "%d", WTERMSIG(st));
    return snprintf(body, size, "{\"t\":\"%s\",\"k\":%d,\"pid\":%d,\"exit\":%s,\"signal\":%s}", type, k, (int)pid,
                    ex, sg);
}

/* Set in a job's process by mp_jobs: its server is init of a PID namespace of its own, so that
 * kill(-1) in the job reaches every process of the namespace but the server and the job itself. */
static int mp_pool_init = 0;

/* Wait for child pid, then kill and reap everything it left: as init of a PID namespace (or a
 * job of a server that is), every other process; otherwise pid's process group. Its status. */
static int reap(pid_t pid, int init) {
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (init) kill(-1, SIGKILL);
    else kill(-pid, SIGKILL);
    for (;;) {
        pid_t r = waitpid(-1, NULL, init ? 0 : WNOHANG);
        if (r > 0) continue;
        if (r < 0 && errno == EINTR) continue;
        break;
    }
    return st;
}

typedef void (*py_hook)(void);

static pid_t python_fork(py_hook before, py_hook parent, py_hook child, int run_child_hook) {
    /* os.fork()'s protocol, found in whichever interpreter loaded us: PyOS_BeforeFork takes the
     * import lock and runs the os.register_at_fork "before" hooks; the child takes over the GIL,
     * forgets the parent's other threads and re-initialises the locks (3.13 insists on the pair). */
    if (before) before();
    pid_t pid = fork();
    int err = errno;
    if (pid == 0) {
        if (child && run_child_hook) child();
    } else if (parent) {
        parent();
    }
    errno = err;
    return pid;
}

/* What both servers (mp_serve, mp_jobs) hold: CPython's fork hooks, whether the server may kill
 * every other process of its PID namespace, and its run directory. */
struct server {
    py_hook before, parent, child;
    int init;
    int run;
};

/* Set a server up: the fork hooks, not dumpable (a process it forks, the same unprivileged user,
 * can neither open this one's /proc/PID/mem nor any other of its /proc files, nor trace it), the
 * run directory, and, when it is not init, the orphans of what it forks come back to it. */
static int server_open(struct server *s, const char *run_dir, int init) {
    s->before = (py_hook)dlsym(RTLD_DEFAULT, "PyOS_BeforeFork");
    s->parent = (py_hook)dlsym(RTLD_DEFAULT, "PyOS_AfterFork_Parent");
    s->child = (py_hook)dlsym(RTLD_DEFAULT, "PyOS_AfterFork_Child");
    s->init = init;
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    s->run = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->run < 0) return -1;
    if (!init) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    return 0;
}

/* A priming fork: whatever the fork hooks set up lazily the first time is set up before the
 * first real fork, so that it starts from the same state as every later one. */
static void server_prime(const struct server *s) {
    pid_t prime = python_fork(s->before, s->parent, s->child, 0);
    if (prime == 0) _exit(0);
    if (prime > 0) while (waitpid(prime, NULL, 0) < 0 && errno == EINTR) {}
}

struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Remove everything inside the directory open as dirfd, without malloc (getdents64 into a stack
 * buffer) and without following links. A directory the call made unreadable is given back its
 * permissions first (the server runs as the same uid). depth bounds the recursion. */
static int wipe_dir(int dirfd, int depth) {
    char buf[4096];
    if (depth > 64) { errno = ELOOP; return -1; }
    for (int pass = 0; pass < 1000; pass++) {
        if (lseek(dirfd, 0, SEEK_SET) < 0) return -1;
        int removed = 0, seen = 0;
        for (;;) {
            long n = syscall(SYS_getdents64, dirfd, buf, sizeof buf);
            if (n < 0) return -1;
            if (n == 0) break;
            for (long off = 0; off < n;) {
                struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
                off += d->d_reclen;
                const char *name = d->d_name;
                if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]))) continue;
                seen++;
                if (unlinkat(dirfd, name, 0) == 0) { removed++; continue; }
                if (errno != EISDIR && errno != EPERM) return -1;
                fchmodat(dirfd, name, 0700, 0);
                int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) return -1;
                int rc = wipe_dir(sub, depth + 1);
                close(sub);
                if (rc < 0) return -1;
                if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0) return -1;
                removed++;
            }
        }
        if (!seen) return 0;
        if (!removed) { errno = ENOTEMPTY; return -1; }
    }
    errno = ENOTEMPTY;
    return -1;
}

static int deny_spawn(void) {
    unsigned arch;
    if (mp_audit_arch(&arch) < 0) return -1;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef SYS_clone3
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
#endif
#ifdef SYS_fork
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fork, 2, 0),
#endif
#ifdef SYS_vfork
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_vfork, 1, 0),
#endif
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

EXPORT int mp_serve(int n, int report_fd, int ack_fd, const char *run_dir, int deny_spawn_in_calls) {
    struct server s;
    if (server_open(&s, run_dir, getpid() == 1 || mp_pool_init) < 0) return -2 - errno;
    int init = s.init, run = s.run;
    if (init) { /* processes the module body started do not run beside the calls */
        kill(-1, SIGKILL);
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
    }
    if (wipe_dir(run, 0) < 0) return -2 - errno; /* what the module body left is not a call's */
    server_prime(&s);
    for (int k = 0; k < n; k++) {
        pid_t pid = python_fork(s.before, s.parent, s.child, 1);
        if (pid < 0) return -2 - errno;
        if (pid == 0) {
            close(run);
            if (!init) setpgid(0, 0);
            /* 1: this process's own seccomp filter; 2: under qemu, whose guests may not install
             * one, the plugin installs it on the emulator (qemu_icount.c, op DENY) */
            if (deny_spawn_in_calls == 1 && deny_spawn() < 0) _exit(5);
            if (deny_spawn_in_calls == 2) syscall(MP_QEMU_MARK, (long)MP_QEMU_DENY);
            return k;
        }
        int st = reap(pid, init);
        char body[200];
        if (send_frame(report_fd, body, status_frame(body, sizeof body, "reaped", k, pid, st)) < 0) return -2 - errno;
        char ack;
        ssize_t r;
        do { r = read(ack_fd, &ack, 1); } while (r < 0 && errno == EINTR);
        if (r != 1) return -2 - (r < 0 ? errno : EPIPE);
        if (wipe_dir(run, 0) < 0) return -2 - errno;
        if (ack == 'q') break; /* the parent ends the job here (a failure under stop_on_failure) */
    }
    close(run);
    return -1;
}

/* The job server: the worker calls it (through ctypes.PyDLL) once it is ready, before any code of
 * a candidate runs. For each byte on ctl_in it forks a job's process, which returns 0 to Python
 * and measures one job (its candidate's setup, then its calls through mp_serve); the server
 * waits for it, kills and reaps whatever it left (as init of a PID namespace: every other
 * process; otherwise the job's process group), empties run_dir and reports
 * {"t":"jobend","k":..,"pid":..,"exit":..,"signal":..} on ctl_out. Like mp_serve's, the server's
 * loop neither allocates nor touches the Python heap, so every job starts from the same state
 * whether it is the first or the hundredth: a count does not depend on the jobs before it.
 * ctl_in and ctl_out are the server's own: the job closes them at once, so no candidate can
 * forge a jobend or take the next job's byte. Not dumpable: a job (the same unprivileged user)
 * can neither read nor write the server's memory through /proc, nor trace it.
 * Returns -1 in the server when ctl_in is closed (the parent is done with this worker), or
 * -2 - errno when a fork, the report or the wipe failed. */
EXPORT int mp_jobs(int ctl_in, int ctl_out, const char *run_dir) {
    struct server s;
    if (server_open(&s, run_dir, getpid() == 1) < 0) return -2 - errno;
    int init = s.init, run = s.run;
    server_prime(&s);
    for (int k = 0;; k++) { /* run_dir is empty: new, then emptied after each job */
        char go;
        ssize_t r;
        do { r = read(ctl_in, &go, 1); } while (r < 0 && errno == EINTR);
        if (r == 0) break;
        if (r < 0) return -2 - errno;
        pid_t pid = python_fork(s.before, s.parent, s.child, 1);
        if (pid < 0) return -2 - errno;
        if (pid == 0) {
            close(run);
            close(ctl_in);
            close(ctl_out);
            mp_pool_init = init;
            if (!init) setpgid(0, 0);
            prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); /* what the job starts comes back to it */
            return 0;
        }
        int st = reap(pid, init);
        if (wipe_dir(run, 0) < 0) return -2 - errno;
        char body[200];
        if (send_frame(ctl_out, body, status_frame(body, sizeof body, "jobend", k, pid, st)) < 0) return -2 - errno;
    }
    close(run);
    return -1;
}
