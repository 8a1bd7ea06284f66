/* SPDX-License-Identifier: Apache-2.0 */
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

int peer_from_socket(int fd, struct peer *p)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    gid_t groups[HWSIGN_MAX_GROUPS];
    socklen_t glen = sizeof(groups);
    struct peer n = {.pidfd = -1};
    int pidfd;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return negative_errno();
    if (len != sizeof(cred))
        return -EIO;
    n.uid = cred.uid;
    n.gid = cred.gid;
    n.pid = cred.pid;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0) {
        n.ngroups = glen / sizeof(gid_t);
    } else if (errno == ERANGE) {
        /* More groups than we look at: policy sees only the first HWSIGN_MAX_GROUPS. */
        glen = sizeof(groups);
        n.groups_truncated = true;
        n.ngroups = ELEMENTSOF(groups);
    } else if (errno != ENOPROTOOPT) {
        return negative_errno();
    }
    memcpy(n.groups, groups, n.ngroups * sizeof(gid_t));

    len = sizeof(pidfd);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && len == sizeof(pidfd))
        n.pidfd = pidfd;

    *p = n;
    return 0;
}

void peer_done(struct peer *p)
{
    if (p->pidfd >= 0)
        close(p->pidfd);
    p->pidfd = -1;
}

bool peer_in_group(const struct peer *p, gid_t gid)
{
    if (p->gid == gid)
        return true;
    for (size_t i = 0; i < p->ngroups; i++)
        if (p->groups[i] == gid)
            return true;
    return false;
}

void peer_read_process(struct peer *p)
{
    char path[64], buf[PEER_MAX_TEXT + 16];
    ssize_t n;
    int fd;

    p->exe[0] = p->unit[0] = '\0';
    if (p->pid <= 0)
        return;
    (void)snprintf(path, sizeof(path), "/proc/%d/exe", (int)p->pid);
    n = readlink(path, p->exe, sizeof(p->exe) - 1);
    p->exe[n > 0 ? n : 0] = '\0';
    (void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)p->pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    /* cgroup v2: a single line "0::/path"; keep the path. */
    if (strncmp(buf, "0::", 3) == 0) {
        size_t len = strcspn(buf + 3, "\n");
        if (len >= sizeof(p->unit))
            len = sizeof(p->unit) - 1;
        memcpy(p->unit, buf + 3, len);
        p->unit[len] = '\0';
    }
}
