/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's event loop: listening socket, connections, signals, timers, completions. */
#pragma once

#include <signal.h>

#include "agent.h"

#define SERVER_TICK_MS         100u
#define SERVER_DRAIN_MS        5000u /* SIGTERM: in-flight requests get this long */
#define SERVER_SOCKET_CHECK_MS 2000u /* how often our socket path is checked */
#define SERVER_MAX_EVENTS      64
#define SERVER_LOG_RETRY_MS    1000u /* a failed signing log is retried this often */

/*
 * Take the listening socket from systemd (sd_listen_fds: exactly one unix stream socket) or
 * create it at path: the parent directory is created 0750 if missing and must then be owned
 * by the agent's user and not writable by group or others; the socket gets mode 0660 (group
 * = socket-group when configured). A live agent already on the path is an error (-EADDRINUSE).
 */
int server_listen(struct agent *a, const char *path);
/*
 * Block the signals the loop reads through a signalfd. Call before starting any thread, so no
 * worker thread can receive SIGTERM and take the default action.
 */
int server_block_signals(void);
void server_signal_mask(sigset_t *mask);
/* Run until SIGTERM/SIGINT (then drain) or a fatal error. Returns the exit status. */
int server_run(struct agent *a);
void server_connection_closed(struct agent *a);
