#!/usr/bin/env bash
# node_exporter parity, end to end: Debian's prometheus-node-exporter and shmetrics
# run on this host at the same time (127.0.0.1, free ports) and are scraped together.
#
# For every collector shmetrics implements (`shmetrics-agent --help` lists them),
# every family node_exporter exposes from that collector must be served by
# shmetrics with the same type, the same label keys and the same label sets, and
# the stable values (MemTotal, boot time, CPUs, filesystem sizes, mount points,
# ...) must be equal.  Which family belongs to which collector is not written down
# here: it is derived by running node_exporter once per collector with only that
# collector enabled.  Collectors shmetrics does not have yet are listed as "not
# implemented", which is not a failure.
#
# node_exporter moved on after 1.5: tests/node_exporter_since_1.5.txt lists what
# its latest release added or changed in these collectors.  node_exporter 1.5 is
# run with today's defaults (the list's "flag" lines); labels added since are
# removed from shmetrics' series before comparing ("label" lines); families new
# since 1.5 are expected on shmetrics' side only ("family" lines), and any other
# family shmetrics serves that 1.5 does not fails the comparison.
#
# Prints a coverage table; exits 1 on any missing or differing family.
#   KEEP=1 keeps the scrapes in the work directory (printed) for a closer look;
#   AGENT_ARGS="--no-collector.uname" adds flags to shmetrics-agent (to see a failure).
# Every wait is bounded.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
inst="nec$$"
work=$(mktemp -d)

cleanup() {
	# Only what this script started: the agent and its children carry $inst.
	kill_instance "$inst"
	if [ -n "${KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

for f in "$BIN/shmetrics-agent" "$NODE_EXPORTER"; do
	[ -x "$f" ] || fatal "$f is missing (make; scripts/deps.sh installs prometheus-node-exporter)"
done
command -v curl >/dev/null || fatal "curl is missing"

AGENT_ARGS=${AGENT_ARGS:-} BIN=$BIN NODE_EXPORTER=$NODE_EXPORTER INST=$inst WORK=$work \
	SINCE=tests/node_exporter_since_1.5.txt python3 - <<'PY'
import fnmatch, os, re, signal, socket, subprocess, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

BIN, NE, INST, WORK, SINCE = (os.environ[k] for k in ("BIN", "NODE_EXPORTER", "INST", "WORK",
                                                       "SINCE"))
START_TIMEOUT = 15.0   # seconds for a process to start serving
READY_TIMEOUT = 20.0   # seconds for every shmetrics collector to have published
PARALLEL = 6           # single-collector node_exporters at once

# Families that are not a collector's: the exporters' own.
IGNORED = re.compile(r"^(node_scrape_collector_|node_exporter_build_info$|node_textfile_scrape_error$|"
                     r"go_|process_|promhttp_|shmetrics_)")

# Values that do not change between two scrapes a moment apart: every series must
# carry the same value on both sides.  (A family missing on either side is reported
# by the family check, not here.)
STABLE = [
    "node_memory_MemTotal_bytes", "node_memory_SwapTotal_bytes", "node_memory_HugePages_Total",
    "node_boot_time_seconds", "node_cpu_isolated",
    "node_filesystem_size_bytes", "node_filesystem_files", "node_filesystem_readonly",
    "node_entropy_pool_size_bits", "node_filefd_maximum",
    "node_os_info", "node_os_version", "node_uname_info",
    "node_time_zone_offset_seconds", "node_time_clocksource_available_info",
    "node_time_clocksource_current_info", "node_timex_tick_seconds",
    "node_network_mtu_bytes", "node_network_info", "node_network_up",
    "node_disk_info", "node_nf_conntrack_entries_limit", "node_dmi_info",
    # opt-in collectors
    "node_sysctl_vm_swappiness", "node_sysctl_net_ipv4_ip_local_port_range_low",
    "node_sysctl_net_ipv4_ip_local_port_range_high", "node_sysctl_kernel_printk",
    "node_sysctl_info", "node_ksmd_run", "node_ksmd_pages_to_scan", "node_ksmd_sleep_seconds",
    "node_ksmd_merge_across_nodes", "node_zoneinfo_spanned_pages", "node_zoneinfo_present_pages",
    "node_zoneinfo_min_pages", "node_zoneinfo_high_pages", "node_cgroups_enabled",
    "node_memory_numa_MemTotal", "node_slabinfo_object_size_bytes",
    "node_slabinfo_objects_per_slab", "node_slabinfo_pages_per_slab",
]
# Options given to both sides (and to the single-collector runs) so that collectors
# which report nothing without them are compared too.
OPTION_FLAGS = {
    "sysctl": ["--collector.sysctl.include=vm.swappiness",
               "--collector.sysctl.include=net.ipv4.ip_local_port_range:low,high",
               "--collector.sysctl.include=kernel.printk",
               "--collector.sysctl.include-info=net.ipv4.tcp_available_congestion_control"],
}
CLOSE = {"node_time_seconds": 10.0}   # equal within this many units
# Families whose series come and go with the moment of collection: node_exporter
# counts sockets while it serves the scrape (its own connection is "established"),
# shmetrics on its own interval; the process states seen (a short-lived zombie) change
# from one moment to the next.  Type and label keys are compared, not label sets.
VOLATILE_SERIES = {"node_tcp_connection_states", "node_processes_state",
                   "node_processes_threads_state"}

def read_since(path):
    """The changes since 1.5: new family patterns, added labels, removed families, flags."""
    new, labels, removed, flags = [], {}, set(), []
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, _, rest = line.partition(" ")
        if kind == "family":
            new.append(rest)
        elif kind == "label":
            fam, label = rest.split()
            labels.setdefault(fam, set()).add(label)
        elif kind == "removed":
            removed.add(rest)
        elif kind == "flag":
            flags.append(rest)
        else:
            raise RuntimeError(f"{path}:{n}: unknown kind {kind!r}")
    return new, labels, removed, flags

NEW_FAMILIES, ADDED_LABELS, REMOVED, NE_FLAGS = read_since(SINCE)

def is_new(family):
    return any(fnmatch.fnmatchcase(family, p) for p in NEW_FAMILIES)

def as_of_1_5(fams):
    """shmetrics' families with the labels added since 1.5 taken out of each series."""
    for pattern, drop in ADDED_LABELS.items():
        for name in fnmatch.filter(list(fams), pattern):
            f = fams[name]
            f["series"] = {frozenset((k, v) for k, v in ls if k not in drop): v2
                           for ls, v2 in f["series"].items()}
    return fams

procs = []

def stop_all():
    """SIGTERM first (the agent then stops its children and removes its segments)."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

def on_signal(sig, frame):
    stop_all()
    sys.exit(1)

signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def fetch(port, timeout=10):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as r:
        return r.read().decode("utf-8", "replace")

def start_node_exporter(args, tag):
    """node_exporter on a free port; retries when another process took the port."""
    for attempt in range(5):
        port = free_port()
        log = open(os.path.join(WORK, f"ne-{tag}.log"), "w")
        p = subprocess.Popen([NE, f"--web.listen-address=127.0.0.1:{port}"] + NE_FLAGS + args,
                             stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        procs.append(p)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and p.poll() is None:
            try:
                fetch(port, timeout=2)
                return p, port
            except OSError:
                time.sleep(0.1)
        p.kill()
        p.wait()
    raise RuntimeError(f"node_exporter {tag} did not start; see {WORK}/ne-{tag}.log")

def stop(p):
    p.kill()
    p.wait()

# ---- the Prometheus text format ----

def unescape(s):
    return s.replace("\\\\", "\0").replace('\\"', '"').replace("\\n", "\n").replace("\0", "\\")

def parse_labels(s, i):
    """Labels from s[i] == '{'; returns (dict, index after '}')."""
    labels, i = {}, i + 1
    while True:
        while s[i] in " ,":
            i += 1
        if s[i] == "}":
            return labels, i + 1
        eq = s.index("=", i)
        key = s[i:eq].strip()
        j = eq + 2            # after ="
        buf = []
        while s[j] != '"':
            if s[j] == "\\":
                buf.append(s[j:j + 2])
                j += 2
            else:
                buf.append(s[j])
                j += 1
        labels[key] = unescape("".join(buf))
        i = j + 1

def parse(text):
    """{family: {"type": t, "series": {frozenset(labels): value}}}"""
    fams, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(None, 3)
            types[name] = typ
            fams.setdefault(name, {"type": typ, "series": {}})
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        name, i = m.group(0), m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i)
        value = float(line[i:].split()[0].replace("Inf", "inf"))
        fam = name
        if name not in types:
            for suffix in ("_bucket", "_sum", "_count"):
                base = name[: -len(suffix)]
                if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
                    fam = base
                    break
        f = fams.setdefault(fam, {"type": types.get(fam, "untyped"), "series": {}})
        if fam != name:
            labels = dict(labels, __sample__=name[len(fam):])
        f["series"][frozenset(labels.items())] = value
    return fams

def label_keys(fam):
    keys = set()
    for ls in fam["series"]:
        keys |= {k for k, _ in ls if k not in ("__sample__", "le", "quantile")}
    return keys

def show(ls):
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(ls) if k != "__sample__") + "}"

# ---- what each side has ----

def shmetrics_collectors():
    out = subprocess.run([os.path.join(BIN, "shmetrics-agent"), "--help"], capture_output=True,
                         text=True, timeout=10).stdout
    cols, inside = {}, False
    for line in out.splitlines():
        if line.startswith("Built-in collectors"):
            inside = True
            continue
        if inside:
            m = re.match(r"\s+([a-z0-9_]+)\s+(.*)", line)
            if not m:
                break
            cols[m.group(1)] = "enabled by default" in m.group(2)
    return cols

def start_shmetrics(ours):
    args = [os.path.join(BIN, "shmetrics-agent"), f"--instance={INST}",
            "--web.listen-address=127.0.0.1:0"]
    args += [f"--collector.{c}" for c, on in ours.items() if not on]
    args += [f for c in ours for f in OPTION_FLAGS.get(c, [])]
    args += os.environ.get("AGENT_ARGS", "").split()
    log_path = os.path.join(WORK, "agent.log")
    p = subprocess.Popen(args, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    procs.append(p)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and p.poll() is None:
        m = re.findall(r"listening on \S*:(\d+)", open(log_path).read())
        if m:
            return p, int(m[-1])
        time.sleep(0.1)
    raise RuntimeError("shmetrics did not start listening:\n" + open(log_path).read())

def wait_ready(port, ours):
    """Until each collector has published once (bounded); returns what is up."""
    deadline = time.monotonic() + READY_TIMEOUT
    up = set()
    while time.monotonic() < deadline:
        try:
            text = fetch(port)
        except OSError:
            time.sleep(0.2)
            continue
        up = set(re.findall(r'^shmetrics_collector_up\{collector="([^"]+)"\} 1$', text, re.M))
        if set(ours) <= up:
            break
        time.sleep(0.2)
    return up

def family_owner(collectors):
    """family -> collector, from one node_exporter per collector."""
    def one(c):
        try:
            p, port = start_node_exporter(["--collector.disable-defaults", f"--collector.{c}"] +
                                          OPTION_FLAGS.get(c, []), c)
        except RuntimeError:
            return c, set()
        try:
            fams = {f for f in parse(fetch(port)) if not IGNORED.match(f)}
        finally:
            stop(p)
        return c, fams
    owner = {}
    with ThreadPoolExecutor(PARALLEL) as pool:
        for c, fams in pool.map(one, sorted(collectors)):
            for f in fams:
                owner[f] = c
    return owner

# ---- comparing ----

def compare_family(name, ne, ours):
    """A list of problems with family name (empty when it matches)."""
    if name not in ours or not ours[name]["series"]:
        return [f"{name}: missing"]
    a, b = ne[name], ours[name]
    problems = []
    if a["type"] != b["type"]:
        problems.append(f"{name}: type {b['type']}, node_exporter has {a['type']}")
    ka, kb = label_keys(a), label_keys(b)
    if ka != kb:
        problems.append(f"{name}: label keys {sorted(kb)}, node_exporter has {sorted(ka)}")
        return problems
    if name in VOLATILE_SERIES:
        return problems
    only_ne = set(a["series"]) - set(b["series"])
    only_us = set(b["series"]) - set(a["series"])
    if only_ne or only_us:
        ex = [f"only node_exporter: {show(s)}" for s in sorted(only_ne, key=show)[:3]]
        ex += [f"only shmetrics: {show(s)}" for s in sorted(only_us, key=show)[:3]]
        problems.append(f"{name}: label sets differ ({len(only_ne)} only in node_exporter, "
                        f"{len(only_us)} only in shmetrics): " + "; ".join(ex))
    return problems

def compare_values(ne, ours):
    """(checks, failures) over the stable families present on both sides."""
    checks, fails = [], []
    for name in STABLE + list(CLOSE):
        if name not in ne or name not in ours:
            continue
        tol = CLOSE.get(name, 0.0)
        bad = [(s, v, ours[name]["series"].get(s)) for s, v in ne[name]["series"].items()
               if s in ours[name]["series"] and
               abs(ours[name]["series"][s] - v) > max(tol, 1e-9 * abs(v))]
        what = f"{name}: {len(ne[name]['series'])} series equal"
        if bad:
            s, v, w = bad[0]
            fails.append(f"{name}: {len(bad)} values differ, e.g. {show(s)} node_exporter {v!r}, "
                         f"shmetrics {w!r}")
        else:
            checks.append(what)
    cpus = lambda f: {dict(s).get("cpu") for s in f.get("node_cpu_seconds_total", {"series": {}})["series"]}
    if "node_cpu_seconds_total" in ne and "node_cpu_seconds_total" in ours:
        n_ne, n_us = len(cpus(ne)), len(cpus(ours))
        (checks if n_ne == n_us else fails).append(
            f"number of CPUs: node_exporter {n_ne}, shmetrics {n_us}")
    if "node_filesystem_size_bytes" in ne and "node_filesystem_size_bytes" in ours:
        mp = lambda f: sorted({dict(s).get("mountpoint") for s in f["node_filesystem_size_bytes"]["series"]})
        (checks if mp(ne) == mp(ours) else fails).append(
            f"mount points: node_exporter {mp(ne)}, shmetrics {mp(ours)}")
    return checks, fails

def success_of(text, collector):
    m = re.search(r'^node_scrape_collector_success\{collector="%s"\} (\S+)$' % re.escape(collector),
                  text, re.M)
    return m.group(1) if m else None

def main():
    ours = shmetrics_collectors()
    if not ours:
        print("not ok - shmetrics-agent --help lists no built-in collectors")
        return 1
    agent, our_port = start_shmetrics(ours)
    # node_exporter with its defaults, plus any collector of ours it has off by default.
    ne_main, ne_port = start_node_exporter([], "main")
    ne_default = set(re.findall(r'^node_scrape_collector_success\{collector="([^"]+)"\}',
                                fetch(ne_port), re.M))
    ne_help = subprocess.run([NE, "--help"], capture_output=True, text=True, timeout=10)
    ne_known = set(re.findall(r"^\s+--(?:\[no-\])?collector\.([a-z0-9_]+)\s",
                              ne_help.stdout + ne_help.stderr, re.M))
    extra = [c for c in ours if c not in ne_default and c in ne_known]
    if extra:
        stop(ne_main)
        ne_main, ne_port = start_node_exporter([f"--collector.{c}" for c in extra] +
                                               [f for c in extra for f in OPTION_FLAGS.get(c, [])],
                                               "main2")
    owner = family_owner(ne_default | (set(ours) & ne_known))
    up = wait_ready(our_port, ours)

    # The two scrapes, one right after the other.
    with ThreadPoolExecutor(2) as pool:
        f1, f2 = pool.submit(fetch, ne_port), pool.submit(fetch, our_port)
        ne_text, our_text = f1.result(), f2.result()
    open(os.path.join(WORK, "node_exporter.txt"), "w").write(ne_text)
    open(os.path.join(WORK, "shmetrics.txt"), "w").write(our_text)
    ne, us = parse(ne_text), as_of_1_5(parse(our_text))

    rows, problems = [], []
    by_collector = {}
    for f in ne:
        if not IGNORED.match(f):
            by_collector.setdefault(owner.get(f, "(unmapped)"), []).append(f)
    failed = False
    for c in sorted(set(by_collector) | set(ours) | ne_default):
        fams = sorted(by_collector.get(c, []))
        if c not in ours:
            rows.append((c, len(fams), "-", "-", "-", "not implemented"))
            continue
        missing = mismatched = 0
        for f in fams:
            if f in REMOVED:
                continue
            p = compare_family(f, ne, us)
            problems += [f"[{c}] {x}" for x in p]
            if p and p[0].endswith(": missing"):
                missing += 1
            elif p:
                mismatched += 1
        status = "ok"
        if c not in up:
            problems.append(f"[{c}] shmetrics_collector_up is not 1")
            status = "FAIL"
        if success_of(ne_text, c) == "1" and success_of(our_text, c) != "1":
            problems.append(f"[{c}] node_scrape_collector_success is {success_of(our_text, c)} "
                            "in shmetrics, 1 in node_exporter")
            status = "FAIL"
        if missing or mismatched:
            status = "FAIL"
        failed |= status == "FAIL"
        rows.append((c, len(fams), len(fams) - missing - mismatched, missing, mismatched, status))

    # Families only shmetrics serves must be new since 1.5 (a typo in a name, or a
    # family 1.5 has under another name, would show up here).
    only_ours = sorted(f for f in us if f.startswith("node_") and f not in ne and
                       not IGNORED.match(f) and us[f]["series"])
    unlisted = [f for f in only_ours if not is_new(f)]
    for f in unlisted:
        problems.append(f"{f}: served by shmetrics, not by node_exporter 1.5, and not listed "
                        f"in {SINCE}")
    failed |= bool(unlisted)

    head = ("collector", "node_exporter families", "matched", "missing", "type/label mismatches",
            "status")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    fmt = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"
    print(fmt(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(fmt(r))
    impl = [r for r in rows if r[0] in ours]
    print(f"\nimplemented: {len(impl)} of {len(rows)} collectors; families matched "
          f"{sum(r[2] for r in impl)} of {sum(r[1] for r in impl)}")
    print(f"new since 1.5, served by shmetrics only: {len(only_ours) - len(unlisted)} families "
          f"({', '.join(f for f in only_ours if is_new(f)) or 'none'})")

    checks, value_fails = compare_values(ne, us)
    print("\nstable values:")
    for c in checks:
        print(f"ok - {c}")
    for c in value_fails:
        print(f"not ok - {c}")
    if problems:
        print("\nproblems:")
        for p in problems:
            print(f"not ok - {p}")
    failed |= bool(value_fails)
    print(f"\ncompare: {'FAIL' if failed else 'PASS'}")
    return 1 if failed else 0

try:
    rc = main()
except Exception as e:  # a start-up failure is a test failure, with the reason
    print(f"not ok - {e}")
    rc = 1
finally:
    stop_all()
sys.exit(rc)
PY
