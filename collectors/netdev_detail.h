/*
 * netdev_detail.h - the kernel's own per-device counters (struct
 * rtnl_link_stats64) under the names node_exporter gives them with
 * --collector.netdev.enable-detailed-metrics, shared by netdev (as
 * node_network_<name>_total counters) and netclass over netlink with
 * --collector.netclass_rtnl.with-stats (as the same names, typed gauge there).
 *
 * Without the option netdev folds these into /proc/net/dev's sixteen columns
 * (rx_dropped + rx_missed_errors is receive_drop, ...); with it every counter is
 * reported as the kernel keeps it.  Reading /proc/net/dev instead of netlink,
 * the option only renames four of the sixteen columns (netdev_detail_proc_names).
 */
#ifndef SHMETRICS_NETDEV_DETAIL_H
#define SHMETRICS_NETDEV_DETAIL_H

#include <linux/if_link.h>
#include <stdint.h>

enum { NETDEV_DETAIL_N = 24, NETDEV_PROC_COLUMNS = 16 };

/* receive_packets, transmit_packets, ..., receive_nohandler (no "_total"). */
extern const char *const netdev_detail_names[NETDEV_DETAIL_N];

/* The index of receive_nohandler in netdev_detail_names: older kernels' stats
 * end before it. */
#define NETDEV_DETAIL_NOHANDLER 23

/* The /proc/net/dev columns in their order, as the detailed option names them:
 * receive_errors and receive_dropped for receive_errs and receive_drop, ... */
extern const char *const netdev_detail_proc_names[NETDEV_PROC_COLUMNS];

/* The counters of st in the order of netdev_detail_names. */
void netdev_detail_fill(uint64_t v[NETDEV_DETAIL_N], const struct rtnl_link_stats64 *st);

#endif
