/* The worker's native helpers, in a small shared object with no Python in it, so that the
 * worker can load it with ctypes from any CPython version, whichever one measure itself was
 * built for:
 *   - valgrind/callgrind client requests (no-ops costing a handful of instructions outside valgrind);
 *   - mp_spin, a loop of known instruction count for the backends' self-test;
 *   - mp_serve, the fork server that gives every counted call the same starting state. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
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

/* The fork server. The worker calls it (through ctypes.PyDLL, so the GIL stays held and no
 * other Python thread runs) once the candidate is loaded. It forks n times; each child returns
 * its index k in [0, n) to Python and runs one call. Between forks the parent runs only this C
 * code, which neither allocates nor touches the Python heap, so every child starts from exactly
 * the same state: the count of a call never depends on the calls before it.
 *
 * After each child: every process it left behind is killed (as init of a PID namespace:
 * kill(-1); otherwise the child's process group) and reaped; the call's directory is moved to
 * trash_dir/k for the parent to read and delete, and a fresh one is made; a frame
 * {"t":"reaped","k":..,"pid":..,"exit":..,"signal":..} goes to report_fd.
 * Returns -1 in the parent when done, or -2 - errno if a fork failed. */
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

EXPORT int mp_serve(int n, int report_fd, const char *run_dir, const char *trash_dir) {
    py_hook before = (py_hook)dlsym(RTLD_DEFAULT, "PyOS_BeforeFork");
    py_hook parent = (py_hook)dlsym(RTLD_DEFAULT, "PyOS_AfterFork_Parent");
    py_hook child = (py_hook)dlsym(RTLD_DEFAULT, "PyOS_AfterFork_Child");
    int init = getpid() == 1;
    if (!init) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); /* orphans come back to us to be reaped */
    if (init) { /* processes the module body started do not run beside the calls */
        kill(-1, SIGKILL);
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
    }
    /* A priming fork: whatever the fork hooks set up lazily the first time is set up before
     * the first counted call, so that it starts from the same state as every later one. */
    pid_t prime = python_fork(before, parent, child, 0);
    if (prime == 0) _exit(0);
    if (prime > 0) while (waitpid(prime, NULL, 0) < 0 && errno == EINTR) {}
    for (int k = 0; k < n; k++) {
        pid_t pid = python_fork(before, parent, child, 1);
        if (pid < 0) return -2 - errno;
        if (pid == 0) {
            if (!init) setpgid(0, 0);
            return k;
        }
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
        char dst[4096], frame[256];
        snprintf(dst, sizeof dst, "%s/%d", trash_dir, k);
        rename(run_dir, dst);
        mkdir(run_dir, 0700);
        char ex[16] = "null", sg[16] = "null";
        if (WIFEXITED(st)) snprintf(ex, sizeof ex, "%d", WEXITSTATUS(st));
        if (WIFSIGNALED(st)) snprintf(sg, sizeof sg, "%d", WTERMSIG(st));
        int len = snprintf(frame + 4, sizeof frame - 4,
                           "{\"t\":\"reaped\",\"k\":%d,\"pid\":%d,\"exit\":%s,\"signal\":%s}", k, (int)pid, ex, sg);
        frame[0] = (char)((len >> 24) & 0xff);
        frame[1] = (char)((len >> 16) & 0xff);
        frame[2] = (char)((len >> 8) & 0xff);
        frame[3] = (char)(len & 0xff);
        if (write_all(report_fd, frame, (size_t)len + 4) < 0) return -2 - errno;
    }
    return -1;
}
