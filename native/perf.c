/* perf_event groups: one code path for hardware and software events.
 *
 * The leader is pinned (a group that cannot be scheduled reads as EOF instead of being
 * silently multiplexed); all members are read at once with PERF_FORMAT_GROUP, together
 * with the enabled/running times that tell whether the kernel multiplexed the group. */
#define _GNU_SOURCE
#include "measure_native.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int perf_event_open(struct perf_event_attr *attr, int pid, int cpu, int group_fd,
                           unsigned long flags) {
    int fd;
    do { /* a signal can interrupt the open (Google Benchmark, b/64774091) */
        fd = (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

int mp_close_fds(const int *fds, int n) {
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) close(fds[i]);
    return 0;
}

int mp_perf_open_group(const uint32_t *types, const uint64_t *configs, int n, int pid, int cpu,
                       int inherit, int enable_on_exec, int pinned, int start_enabled,
                       int *fds, uint64_t *ids, int *failed_index) {
    if (n < 1 || n > MP_MAX_EVENTS) return -EINVAL;
    for (int i = 0; i < n; i++) fds[i] = -1;
    *failed_index = -1;
    for (int i = 0; i < n; i++) {
        struct perf_event_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = types[i];
        attr.config = configs[i];
        attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
                           PERF_FORMAT_TOTAL_TIME_RUNNING | PERF_FORMAT_ID;
        attr.exclude_kernel = 1; /* needed at perf_event_paranoid=2; kernel work is not the candidate's */
        attr.exclude_hv = 1;
        attr.inherit = inherit ? 1 : 0;
        if (i == 0) {
            /* siblings follow the leader: only the leader carries the enable state */
            attr.disabled = start_enabled ? 0 : 1;
            attr.enable_on_exec = enable_on_exec ? 1 : 0;
            attr.pinned = pinned ? 1 : 0;
        }
        int fd = perf_event_open(&attr, pid, cpu, i == 0 ? -1 : fds[0], PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            *failed_index = i;
            mp_close_fds(fds, i);
            for (int j = 0; j < n; j++) fds[j] = -1;
            return -err;
        }
        fds[i] = fd;
        uint64_t id = 0;
        if (ioctl(fd, PERF_EVENT_IOC_ID, &id) < 0) {
            int err = errno;
            *failed_index = i;
            mp_close_fds(fds, i + 1);
            for (int j = 0; j < n; j++) fds[j] = -1;
            return -err;
        }
        ids[i] = id;
    }
    return 0;
}

int mp_perf_ioctl(int leader_fd, int op) {
    unsigned long req;
    switch (op) {
    case 0: req = PERF_EVENT_IOC_ENABLE; break;
    case 1: req = PERF_EVENT_IOC_DISABLE; break;
    case 2: req = PERF_EVENT_IOC_RESET; break;
    default: return -EINVAL;
    }
    return ioctl(leader_fd, req, PERF_IOC_FLAG_GROUP) < 0 ? -errno : 0;
}

/* Layout with GROUP|TOTAL_TIME_ENABLED|TOTAL_TIME_RUNNING|ID:
 *   u64 nr; u64 time_enabled; u64 time_running; { u64 value; u64 id; } cntr[nr]; */
int mp_perf_parse_group(const uint64_t *buf, size_t nbytes, int n, uint64_t *values, uint64_t *ids,
                        uint64_t *time_enabled, uint64_t *time_running, int *scaled) {
    if (nbytes == 0) return -ENODATA; /* a pinned group in error state (could not be scheduled) */
    if (nbytes < 3 * sizeof(uint64_t)) return -EIO;
    uint64_t nr = buf[0];
    if (nr != (uint64_t)n || nbytes < (3 + 2 * nr) * sizeof(uint64_t)) return -EIO;
    *time_enabled = buf[1];
    *time_running = buf[2];
    *scaled = buf[2] < buf[1];
    for (int i = 0; i < n; i++) {
        values[i] = buf[3 + 2 * i];
        ids[i] = buf[4 + 2 * i];
    }
    return 0;
}

int mp_perf_read_group(int leader_fd, int n, uint64_t *values, uint64_t *ids,
                       uint64_t *time_enabled, uint64_t *time_running, int *scaled) {
    uint64_t buf[3 + 2 * MP_MAX_EVENTS];
    if (n < 1 || n > MP_MAX_EVENTS) return -EINVAL;
    ssize_t got;
    do {
        got = read(leader_fd, buf, sizeof buf);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return -errno;
    return mp_perf_parse_group(buf, (size_t)got, n, values, ids, time_enabled, time_running, scaled);
}
