/*
 * supervisor.h - the agent's main loop: create the segments, start the children,
 * reap and restart them with backoff, reload on SIGHUP, and on SIGTERM/SIGINT
 * stop everything and remove every segment it created.
 *
 * Signal handlers only set flags; all work happens in the loop, which waits in
 * ppoll() with the signals unblocked only there, so no signal is ever missed.
 */
#ifndef SHMETRICS_AGENT_SUPERVISOR_H
#define SHMETRICS_AGENT_SUPERVISOR_H

#include "cli.h"
#include "config.h"

/* Longest sleep of the main loop when nothing is scheduled. */
#define SUPERVISOR_MAX_WAIT_MS 1000u

/*
 * Runs the agent with cfg (already loaded and checked) until SIGTERM or SIGINT.
 * args gives the config path and overrides to re-apply on SIGHUP; it must stay
 * alive.  Returns the process exit status: AGENT_EXIT_OK after a clean shutdown,
 * AGENT_EXIT_FAILURE when startup failed (nothing is left behind then).
 */
int supervisor_run(const struct shm_config *cfg, const struct cli_args *args);

#endif
