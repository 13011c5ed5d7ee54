#!/usr/bin/env python3
"""Structural checks of deploy/kubernetes/*.yaml and deploy/container/Containerfile.

No cluster and no kubeconform here, so this checks what a reviewer would: every
document parses and has apiVersion/kind/metadata.name; the DaemonSet's selector
matches its pod labels, it runs on the host network and PID namespace, mounts
/proc, /sys and / read-only under /host and passes the matching --path flags,
runs as non-root without privilege escalation, and sets requests and limits;
every volumeMount names a volume; the Service selects the pods and targets a
named container port; the ServiceMonitor selects the Service and uses one of its
port names; the Containerfile is multi-stage, ends as a non-root USER, and its
entry point uses the same /host paths.  Prints one line per failed check and
exits 1 if any failed.
"""
import re
import sys

try:
    import yaml
except ImportError:
    print("SKIP: the python3 yaml module is missing (apt-get install python3-yaml)")
    sys.exit(0)

failures = []


def need(cond, what):
    if not cond:
        failures.append(what)


def load(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for d in docs:
        need(isinstance(d, dict) and d.get("apiVersion") and d.get("kind")
             and d.get("metadata", {}).get("name"),
             f"{path}: a document lacks apiVersion, kind or metadata.name")
    return docs


def flag(args, name):
    for a in args:
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def check_daemonset(ds, path):
    spec = ds["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    sel = spec["selector"]["matchLabels"]
    need(all(labels.get(k) == v for k, v in sel.items()),
         f"{path}: selector {sel} does not match the pod labels {labels}")
    need(pod.get("hostNetwork") is True, f"{path}: hostNetwork is not true")
    need(pod.get("hostPID") is True, f"{path}: hostPID is not true")
    psc = pod.get("securityContext", {})
    need(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0,
         f"{path}: the pod does not run as a non-root user")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    c = pod["containers"][0]
    args = c.get("args", [])
    sc = c.get("securityContext", {})
    need(sc.get("allowPrivilegeEscalation") is False,
         f"{path}: allowPrivilegeEscalation is not false")
    need("ALL" in sc.get("capabilities", {}).get("drop", []),
         f"{path}: capabilities are not all dropped")
    need(sc.get("readOnlyRootFilesystem") is True,
         f"{path}: the root file system is writable")
    res = c.get("resources", {})
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            need(r in res.get(kind, {}), f"{path}: resources.{kind}.{r} is missing")
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    for m in mounts.values():
        need(m["name"] in volumes, f"{path}: volumeMount {m['name']} has no volume")
    for host, fl in (("/proc", "--path.procfs"), ("/sys", "--path.sysfs"),
                     ("/", "--path.rootfs")):
        where = flag(args, fl)
        need(where in mounts, f"{path}: {fl}={where} is not a mount path")
        if where in mounts:
            m = mounts[where]
            need(m.get("readOnly") is True, f"{path}: {where} is not read-only")
            need(volumes.get(m["name"], {}).get("hostPath", {}).get("path") == host,
                 f"{path}: {where} is not the host's {host}")
    check_queue(path, pod, volumes, mounts, flag(args, "--remote-write.queue-dir"))
    ports = {p["name"]: p for p in c.get("ports", [])}
    listen = flag(args, "--web.listen-address") or ":9469"
    need(any(str(p["containerPort"]) == listen.rsplit(":", 1)[1] for p in ports.values()),
         f"{path}: no container port matches --web.listen-address={listen}")
    for probe in ("livenessProbe", "readinessProbe"):
        port = c.get(probe, {}).get("httpGet", {}).get("port")
        need(port in ports, f"{path}: {probe} uses unknown port {port}")
    return labels, ports


def check_queue(path, pod, volumes, mounts, qdir):
    """The remote-write queue directory is on a writable volume of the node's
    disk, and an init container gives it to the pod's user."""
    need(qdir is not None, f"{path}: --remote-write.queue-dir is not set")
    if qdir is None:
        return
    under = [m for p, m in mounts.items() if qdir == p or qdir.startswith(p.rstrip("/") + "/")]
    need(under and not under[0].get("readOnly"),
         f"{path}: --remote-write.queue-dir={qdir} is not on a writable mount")
    if under:
        vol = volumes.get(under[0]["name"], {})
        need("hostPath" in vol, f"{path}: the queue is not on the node (hostPath)")
    uid = str(pod.get("securityContext", {}).get("runAsUser"))
    need(any(uid in " ".join(ic.get("command", [])) for ic in pod.get("initContainers", [])),
         f"{path}: no init container gives the queue directory to uid {uid}")


def main():
    docs = {}
    for name in ("namespace", "daemonset", "service", "servicemonitor"):
        path = f"deploy/kubernetes/{name}.yaml"
        docs[name] = load(path)[0]
    ds = docs["daemonset"]
    need(ds["kind"] == "DaemonSet", "daemonset.yaml is not a DaemonSet")
    labels, ports = check_daemonset(ds, "daemonset.yaml")
    ns = docs["namespace"]["metadata"]["name"]
    for name in ("daemonset", "service", "servicemonitor"):
        need(docs[name]["metadata"].get("namespace") == ns,
             f"{name}.yaml is not in namespace {ns}")
    svc = docs["service"]
    sel = svc["spec"]["selector"]
    need(all(labels.get(k) == v for k, v in sel.items()),
         "service.yaml: the selector does not select the DaemonSet's pods")
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    for p in svc_ports.values():
        need(p.get("targetPort") in ports,
             f"service.yaml: targetPort {p.get('targetPort')} is not a container port")
    sm = docs["servicemonitor"]
    need(sm["apiVersion"] == "monitoring.coreos.com/v1", "servicemonitor.yaml: apiVersion")
    msel = sm["spec"]["selector"]["matchLabels"]
    svc_labels = svc["metadata"].get("labels", {})
    need(all(svc_labels.get(k) == v for k, v in msel.items()),
         "servicemonitor.yaml: the selector does not select the Service")
    for ep in sm["spec"]["endpoints"]:
        need(ep.get("port") in svc_ports, f"servicemonitor.yaml: unknown port {ep.get('port')}")
    with open("deploy/kubernetes/prometheus-scrape.yml") as f:
        prom = yaml.safe_load(f)
    need(any(j.get("kubernetes_sd_configs") for j in prom.get("scrape_configs", [])),
         "prometheus-scrape.yml: no kubernetes_sd_configs job")
    check_containerfile("deploy/container/Containerfile", ds)
    for f_ in failures:
        print("not ok -", f_)
    print(f"manifests: {len(failures)} failures")
    return 1 if failures else 0


def check_containerfile(path, ds):
    text = open(path).read()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    need(len(froms) >= 2, f"{path}: not a multi-stage build")
    final = text[text.rfind("\nFROM "):]
    user = re.findall(r"^USER\s+(\S+)", final, re.M)
    need(user and not user[-1].split(":")[0] in ("0", "root"),
         f"{path}: the final stage does not switch to a non-root USER")
    need("COPY --from=build" in final, f"{path}: the final stage copies nothing from the build")
    need(not re.search(r"(gcc|-dev)\b", final), f"{path}: build tools in the final stage")
    ep = re.search(r"^ENTRYPOINT\s+(\[.*\])", text, re.M)
    need(ep is not None, f"{path}: no ENTRYPOINT")
    if ep:
        import json
        entry = json.loads(ep.group(1))
        args = ds["spec"]["template"]["spec"]["containers"][0]["args"]
        for fl in ("--path.procfs", "--path.sysfs", "--path.rootfs"):
            need(flag(entry, fl) == flag(args, fl),
                 f"{path}: {fl} differs from the DaemonSet's")


if __name__ == "__main__":
    sys.exit(main())
