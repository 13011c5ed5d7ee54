/*
 * cgname.h - what a cgroup's path says about what runs in it: the systemd unit,
 * or the container (its id, name, runtime and Kubernetes pod) where the
 * runtime's usual path makes them known.
 *
 * Only the path is read, never the runtime's own state: a Docker container's
 * name is not in its path, so it has an id and no name; an LXC or nspawn
 * container's name is the path.  Paths recognised (systemd and cgroupfs drivers):
 *
 *   /system.slice/docker-ID.scope          /docker/ID                  docker
 *   .../cri-containerd-ID.scope            /kubepods/QOS/podUID/ID     containerd / (none)
 *   .../crio-ID.scope                                                  cri-o
 *   /machine.slice/libpod-ID.scope         /libpod_parent/libpod-ID    podman
 *   .../nerdctl-ID.scope                   /NAMESPACE/ID (containerd)  containerd
 *   /lxc.payload.NAME   /lxc/NAME                                      lxc
 *   /machine.slice/systemd-nspawn@NAME.service                         systemd-nspawn
 *   /machine.slice/machine-NAME.scope                                  machined
 *   .../kubepods-QOS-podUID.slice   .../podUID                         (pod_uid)
 *
 * where ID is 64 hexadecimal digits.  A cgroup below a container's (the
 * container's own systemd, a nested runtime) belongs to it and gets its labels.
 * Monitor and conmon scopes (libpod-conmon-ID.scope, crio-conmon-ID.scope,
 * lxc.monitor.NAME) are not containers; they keep their unit.
 */
#ifndef SHMETRICS_CGNAME_H
#define SHMETRICS_CGNAME_H

#include <stddef.h>

#define CGNAME_ID_LEN  64
#define CGNAME_MAX     256 /* longer units or names are left out */
#define CGNAME_UID_MAX 40

struct cg_names {
	char unit[CGNAME_MAX]; /* the last component when it names a unit ("ssh.service") */
	char container_id[CGNAME_ID_LEN + 1];
	char container_name[CGNAME_MAX];
	const char *runtime;          /* "docker", "containerd", ...; "" when not known */
	char pod_uid[CGNAME_UID_MAX]; /* with dashes, as Kubernetes writes it */
};

/* Fills out from path ("/", "/system.slice/ssh.service", ...; len bytes). */
void cgname_parse(const char *path, size_t len, struct cg_names *out);

#endif
