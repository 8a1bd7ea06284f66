/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel credentials of a connected peer, read from the accepted socket before any request. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <hwsign/protocol.h>

#define PEER_MAX_TEXT 256u

struct peer {
    uid_t uid;
    gid_t gid;
    pid_t pid;
    int pidfd; /* -1 when the kernel has no SO_PEERPIDFD; owned by the peer */
    gid_t groups[HWSIGN_MAX_GROUPS];
    size_t ngroups;
    bool groups_truncated;
    /* Best effort, read at accept from /proc for the signing log (empty when unknown). */
    char exe[PEER_MAX_TEXT];  /* /proc/PID/exe target */
    char unit[PEER_MAX_TEXT]; /* cgroup v2 path, e.g. /system.slice/build.service */
};

/*
 * Fill p from the accepted socket fd: SO_PEERCRED (required), SO_PEERGROUPS and SO_PEERPIDFD
 * (used when the kernel has them). Returns 0 or -errno.
 */
int peer_from_socket(int fd, struct peer *p);
void peer_done(struct peer *p); /* closes the pidfd */
/* Fill exe and unit from /proc/PID (no error if the process is gone). */
void peer_read_process(struct peer *p);
/* Whether gid is the peer's primary or one of its supplementary groups. */
bool peer_in_group(const struct peer *p, gid_t gid);
