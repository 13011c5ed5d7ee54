/*
 * netclass_rtnl.h - the netclass collector's families from rtnetlink instead of
 * sysfs (--collector.netclass.netlink), as node_exporter's netclass_rtnl does.
 * netclass.c chooses between the two at init; these are the netlink half's
 * collector_ops functions.
 */
#ifndef SHMETRICS_NETCLASS_RTNL_H
#define SHMETRICS_NETCLASS_RTNL_H

#include "collector.h"

int netclass_rtnl_init(void **state, const struct collector_env *env, char *err, size_t errlen);
int netclass_rtnl_collect(void *state, struct batch *b, char *err, size_t errlen);
void netclass_rtnl_fini(void *state);

#endif
