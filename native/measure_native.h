/* measure's native layer: perf_event groups, the sandboxed child launcher.
 * Every function returns 0 (or a non-negative value) on success and -errno on failure;
 * nothing here allocates memory that the caller must free. */
#ifndef MEASURE_NATIVE_H
#define MEASURE_NATIVE_H
#include <stdint.h>
#include <stddef.h>

#define MP_MAX_EVENTS 16
#define MP_MAX_WARN 16
#define MP_MAX_EXPOSE 64

/* perf_event groups (perf.c) */
int mp_perf_open_group(const uint32_t *types, const uint64_t *configs, int n, int pid, int cpu,
                       int inherit, int enable_on_exec, int pinned, int start_enabled,
                       int *fds, uint64_t *ids, int *failed_index);
int mp_perf_ioctl(int leader_fd, int op); /* op: 0 enable, 1 disable, 2 reset (whole group) */
int mp_perf_read_group(int leader_fd, int n, uint64_t *values, uint64_t *ids,
                       uint64_t *time_enabled, uint64_t *time_running, int *scaled);
int mp_perf_parse_group(const uint64_t *buf, size_t nbytes, int n, uint64_t *values, uint64_t *ids,
                        uint64_t *time_enabled, uint64_t *time_running, int *scaled);
int mp_close_fds(const int *fds, int n);

/* the sandboxed child launcher (launch.c) */
struct mp_spawn_spec {
    const char *path;            /* executable, absolute */
    char *const *argv;           /* NULL-terminated */
    char *const *envp;           /* NULL-terminated */
    const char *workdir;         /* host directory the child works in */
    const char *inner_dir;       /* where workdir appears inside a mount namespace (NULL: not moved) */
    int ns_flags;                /* CLONE_NEW* flags wanted (CLONE_NEWUSER added by the caller when not root) */
    int map_uid, map_gid;        /* with CLONE_NEWUSER: the ids outside that become 0 inside */
    const char *const *ro_mounts;/* mount points to make read-only inside the mount namespace */
    const unsigned long *ro_flags;/* their current MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_*ATIME flags */
    int n_ro;
    int mount_proc;              /* mount a fresh /proc (PID namespace), /proc/sys read-only */
    int no_aslr;                 /* personality(ADDR_NO_RANDOMIZE) */
    int no_new_privs;            /* PR_SET_NO_NEW_PRIVS */
    int seccomp;                 /* install the deny-list filter */
    int n_rlimits;
    const int *rl_resource;
    const uint64_t *rl_value;    /* soft = hard = value; UINT64_MAX = unlimited */
    int stdin_fd, stdout_fd, stderr_fd;
    const int *keep_fds;         /* become fds 3, 4, ... in the child */
    int n_keep;
    const char *cgroup_procs;    /* a cgroup's cgroup.procs file to put the child in before it runs (NULL: none) */
    /* counters opened by the parent on the child before it runs (n_events = 0: none) */
    int n_events;
    const uint32_t *ev_types;
    const uint64_t *ev_configs;
    int ev_inherit, ev_enable_on_exec, ev_pinned;
    /* the candidate's view of the machine */
    int run_uid, run_gid;        /* >= 0: setgroups([]), setgid, setuid before exec: no capabilities left */
    int private_dev;             /* a fresh read-only /dev: null zero full random urandom, fd links, no shm */
    const char *scratch_dir;     /* mount a size-limited tmpfs here (inside path, owned by run_uid; NULL: none) */
    uint64_t scratch_bytes;      /* its size: the disk quota of a call */
    int socket_policy;           /* 0: any family; 1: AF_INET/AF_INET6 only (empty net namespace); 2: none
                                    (socketpair(2) always works: it reaches nothing outside) */
    /* host directories the unprivileged worker needs (its interpreter) below a directory it may
     * not traverse (/root): that directory is covered by an empty tmpfs and each path bound back
     * at its own place, read-only; nothing else of the covered directory is visible */
    const char *const *expose_cover;
    const char *const *expose_path;
    int n_expose;
    /* a host directory shown read-only at another path (the measured virtual environment, at one
     * fixed place whatever the checkout: its path would otherwise change the counts); NULL: none */
    const char *bind_src;
    const char *bind_dst;
};

struct mp_spawn_result {
    int pid;
    int counter_fds[MP_MAX_EVENTS];
    uint64_t counter_ids[MP_MAX_EVENTS];
    int counter_errno;           /* 0, or the errno of the failed perf_event_open */
    int counter_failed_index;
    int error_stage;             /* 0, or the MP_STAGE_* where the child failed before exec */
    int error_errno;
    int n_warn;                  /* non-fatal set-up steps that failed (e.g. a read-only remount) */
    int warn_stage[MP_MAX_WARN];
    int warn_errno[MP_MAX_WARN];
};

enum {
    MP_STAGE_NONE = 0, MP_STAGE_CLONE, MP_STAGE_FDS, MP_STAGE_USERNS, MP_STAGE_MOUNT_PRIVATE,
    MP_STAGE_MOUNT_BIND, MP_STAGE_MOUNT_RO, MP_STAGE_MOUNT_PROC, MP_STAGE_CHDIR, MP_STAGE_SETSID,
    MP_STAGE_RLIMIT, MP_STAGE_PERSONALITY, MP_STAGE_GO, MP_STAGE_NO_NEW_PRIVS, MP_STAGE_SECCOMP,
    MP_STAGE_EXEC, MP_STAGE_PDEATHSIG, MP_STAGE_CGROUP, MP_STAGE_DEV, MP_STAGE_SCRATCH, MP_STAGE_SETUID, MP_STAGE_EXPOSE
};

int mp_spawn(const struct mp_spawn_spec *spec, struct mp_spawn_result *res);

struct mp_wait_result {
    int exited, exit_code, signaled, term_signal, timed_out;
    long maxrss_kb;
    double utime_s, stime_s;
};
/* Wait for the child and, with a PID namespace, every process in it; timeout_ms < 0: no limit.
 * On timeout the whole tree is killed (SIGKILL) and reaped. */
int mp_wait(int pid, int timeout_ms, int own_pid_namespace, struct mp_wait_result *res);
int mp_kill_tree(int pid, int own_pid_namespace);
int mp_probe_namespaces(int ns_flags, int map_uid, int map_gid);
#endif
