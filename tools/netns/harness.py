#!/usr/bin/env python3
"""Real-network test harness: a simulator scenario on real processes.

  python3 tools/netns/harness.py --scenario scenarios/X.json [--bin-dir bazel-bin]
      [--time-scale S] [--keep DIR] [--bandwidth-mbit M]

Starts the scenario's committee (4 authorities in the shipped scenarios) as
real `narwhal_node` processes, each authority in its own Linux network
namespace (primary and worker(s) as separate processes), the namespaces
joined by a bridge living in a namespace of its own. Addresses come from a
test subnet (10.213.0.0/24) that exists only inside those namespaces: the
root namespace's interfaces, routes and firewall are never touched, and no
traffic leaves the namespaces. One `narwhal_client submit` per worker, run
inside its host's namespace, offers the load; the scenario's faults happen
for real at their `at_s` (x --time-scale): nftables rules inside the host
namespaces (partition, block, loss), kill -9 and restart on the same stores
(crash/restart), SIGSTOP/SIGCONT (pause/resume). After the drain it reads
every primary's committed stream from index 0 (tools/netns/stream_reader.py
inside each namespace) and checks agreement, integrity, availability and
liveness after each heal; it prints one JSON line with the simulator's
summary keys plus "world": "netns".

Exit: 0 no violation, 1 violations, 2 bad usage or a scenario this network
cannot run (refused by name), 77 skipped (prints "SKIPPED: <why>": not
root, no `ip`/`nft`, or network namespaces cannot be created).

Everything it creates (namespaces nwh<pid>-*, processes, a temporary
directory unless --keep) is removed on exit, on Ctrl-C and on errors.
tools/netns/README.md has the details.
"""

import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SUBNET = "10.213.0"  # /24, only inside our namespaces
BASE_PORT = 7000
CATCH_UP_S = 30  # at the end, how long a lagging primary gets to reach the others' last index
TABLE = "nwh_faults"
PREFIX = "nwh"

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_SKIP = 0, 1, 2, 77

T_START = time.monotonic()


def log(msg):
    print(f"[harness {time.monotonic() - T_START:7.2f}s] {msg}", file=sys.stderr, flush=True)


class Refused(Exception):
    """The scenario asks for something this harness cannot do for real."""


class Skip(Exception):
    pass


class Interrupted(Exception):
    pass


# ------------------------------------------------------------------ scenario

SCENARIO_FIELDS = {
    "name", "description", "seed", "duration_s", "heal_at_s", "liveness_bound_s", "committee",
    "parameters", "load", "network", "faults", "byzantine", "crash_restarts", "swarm",
    "test_only_break_commit_rule",
}
FAULT_FIELDS = {"at_s", "kind", "group_a", "group_b", "node", "loss", "delay_ms", "extra_delay_ms",
                "until_s", "role"}
KINDS = ["set_loss", "set_delay", "partition", "unpartition", "block", "unblock", "clog", "unclog",
         "heal", "heal_all", "crash", "restart", "pause", "resume"]
NODE_KINDS = {"crash", "restart", "pause", "resume"}
GROUP_KINDS = {"partition", "unpartition", "block", "unblock", "clog", "unclog"}
UNTIL_END = {"crash": "restart", "pause": "resume", "partition": "unpartition", "block": "unblock",
             "clog": "unclog", "set_loss": "set_loss", "set_delay": "set_delay"}
NO_NETEM = ("the real network here cannot add delay: this kernel has no netem qdisc (sch_netem), "
            "and the harness does not emulate latency")
REFUSED_KINDS = {
    "set_delay": NO_NETEM,
    "clog": NO_NETEM,
    "unclog": NO_NETEM,
}
# Parameters `narwhal_node committee` has a flag for; the others are written
# into the committee file's `parameters` (the node reads them from there).
PARAM_FLAGS = {"batch_size_bytes", "max_batch_delay_ms", "header_size", "max_header_delay_ms",
               "gc_depth", "sync_retry_delay_ms", "leader_timeout_ms", "retry_initial_interval_ms",
               "sqlite_synchronous"}


def snake(name):
    """protobuf's JSON mapping accepts lowerCamelCase too."""
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def snake_keys(obj, recurse=True):
    if isinstance(obj, dict):
        return {snake(k): (snake_keys(v) if recurse else v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [snake_keys(v) for v in obj]
    return obj


class Scenario:
    """What the run needs from a scenario file (schema: sim/scenario.proto)."""

    def __init__(self, path):
        self.path = path
        try:
            with open(path) as f:
                raw = json.load(f)
        except OSError as e:
            raise Refused(f"cannot open scenario file: {e}")
        except json.JSONDecodeError as e:
            raise Refused(f"not a valid scenario: {e}")
        if not isinstance(raw, dict):
            raise Refused("not a valid scenario: not a JSON object")
        parameters = raw.get("parameters", {})
        s = snake_keys({k: v for k, v in raw.items() if k != "parameters"})
        for k in s:
            if k not in SCENARIO_FIELDS:
                raise Refused(f"not a valid scenario: Cannot find field: {k}")
        self.notes = []
        self.name = s.get("name", os.path.basename(path))
        self.seed = s.get("seed", 0)
        self.duration_s = float(s.get("duration_s", 30) or 30)
        self.heal_at_s = float(s.get("heal_at_s", 0) or 0)
        self.liveness_bound_s = float(s.get("liveness_bound_s", 20) or 20)
        c = s.get("committee", {}) or {}
        self.nodes = int(c.get("size", 0) or 0) or (len(c.get("stakes", [])) or 4)
        self.stakes = [int(x) for x in c.get("stakes", [])]
        if self.stakes and len(self.stakes) != self.nodes:
            raise Refused(f"committee.stakes: has {len(self.stakes)} entries for {self.nodes} authorities")
        if any(x <= 0 for x in self.stakes):
            raise Refused("committee.stakes: every stake must be > 0")
        if not 1 <= self.nodes <= 200:
            raise Refused("committee.size: must be in 1..200 for this harness")
        self.workers = int(c.get("workers", 0) or 0) or 1
        if c.get("signatures", "ed25519") not in ("", "ed25519"):
            self.notes.append(f"committee.signatures \"{c['signatures']}\" ignored: the node always signs with Ed25519")
        if c.get("store", "") not in ("", "sqlite"):
            self.notes.append(f"committee.store \"{c['store']}\" ignored: the node stores to SQLite files")
        self.parameters = snake_keys(parameters, recurse=False) if isinstance(parameters, dict) else {}
        load = s.get("load", {}) or {}
        self.tps = float(load.get("transactions_per_s", 1300))
        if self.tps < 0:
            raise Refused("load.transactions_per_s: must be >= 0")
        self.tx_size = int(load.get("transaction_size_bytes", 0) or 0) or 512
        if self.tx_size < 25:
            self.notes.append(f"load.transaction_size_bytes {self.tx_size} raised to 25 (narwhal_client's header)")
            self.tx_size = 25
        self.drain_s = min(10.0, self.duration_s / 3)
        if "drain_s" in load:
            self.drain_s = float(load["drain_s"])
            if self.drain_s < 0 or self.drain_s >= self.duration_s:
                raise Refused("load.drain_s: must be in [0, duration_s)")
        net = s.get("network", {}) or {}
        self.baseline_loss = float(net.get("packet_loss_probability", 0) or 0)
        if not 0 <= self.baseline_loss <= 1:
            raise Refused("network.packet_loss_probability: must be a probability in [0, 1]")
        if net.get("one_way_delay_ms_mean") or net.get("one_way_delay_ms_min") or net.get("delay_distribution"):
            self.notes.append("network delay not reproduced (no netem in this kernel): the bridge adds ~0.1 ms, "
                              f"the scenario asks one_way_delay_ms_mean {net.get('one_way_delay_ms_mean', 10)}")
        if net.get("packet_duplication_probability"):
            self.notes.append("network.packet_duplication_probability ignored (TCP drops duplicate segments)")
        self.refusals = []
        if s.get("byzantine"):
            self.refusals.append("byzantine: Byzantine authorities exist only in the simulator "
                          "(the node has no Byzantine behaviours); refused")
        if s.get("crash_restarts"):
            self.refusals.append("crash_restarts: random draws from the seed; freeze them into explicit faults with "
                          "`narwhal_sim --scenario=FILE --print_scenario` and run that file")
        if s.get("swarm"):
            self.refusals.append("swarm: random draws from the seed; freeze one seed with "
                          "`narwhal_sim --scenario=FILE --seed=N --print_scenario` and run that file")
        if s.get("test_only_break_commit_rule"):
            self.refusals.append("test_only_break_commit_rule: a simulator-only injected bug; refused")
        self.events = []  # dicts: at_s, kind, node, group_a, group_b, loss, role, index
        for i, f in enumerate(s.get("faults", []) or []):
            self._add_fault(i, f)
        if self.heal_at_s < 0 or (self.heal_at_s and self.heal_at_s >= self.duration_s):
            raise Refused("heal_at_s: must be before the end of the run")
        if self.heal_at_s > 0:
            self.events.append({"at_s": self.heal_at_s, "kind": "heal_all", "field": "heal_at_s"})
        self.events.sort(key=lambda e: e["at_s"])  # stable: like the simulator
        if self.refusals:
            raise Refused("cannot run this scenario on the real network:\n  " + "\n  ".join(self.refusals))

    def _add_fault(self, i, f):
        field = f"faults[{i}]"
        for k in f:
            if k not in FAULT_FIELDS:
                raise Refused(f"{field}: Cannot find field: {k}")
        kind = f.get("kind", "")
        if kind not in KINDS:
            raise Refused(f"{field}.kind: unknown kind \"{kind}\"; one of {', '.join(KINDS)}")
        if kind in REFUSED_KINDS:
            self.refusals.append(f"{field}.kind: \"{kind}\" refused: {REFUSED_KINDS[kind]}")
            return
        at = float(f.get("at_s", 0))
        if at < 0 or at >= self.duration_s:
            raise Refused(f"{field}.at_s: {at} is not in [0, duration_s {self.duration_s})")
        ev = {"at_s": at, "kind": kind, "field": field}
        n = self.nodes
        if kind in NODE_KINDS:
            if "node" not in f:
                raise Refused(f"{field}.node: required for {kind}")
            if not 0 <= int(f["node"]) < n:
                raise Refused(f"{field}.node: authority {f['node']} is not in the committee (size {n})")
            ev["node"] = int(f["node"])
        elif "node" in f:
            raise Refused(f"{field}.node: not used by {kind}")
        if kind in GROUP_KINDS:
            a = [int(x) for x in f.get("group_a", [])]
            b = [int(x) for x in f.get("group_b", [])]
            if not a:
                raise Refused(f"{field}.group_a: required for {kind}")
            for g, name in ((a, "group_a"), (b, "group_b")):
                for x in g:
                    if not 0 <= x < n:
                        raise Refused(f"{field}.{name}: authority {x} is not in the committee (size {n})")
            if not b:
                b = [x for x in range(n) if x not in a]
            if not b:
                raise Refused(f"{field}.group_a: covers the whole committee: nobody is cut off")
            ev["group_a"], ev["group_b"] = a, b
        elif f.get("group_a") or f.get("group_b"):
            raise Refused(f"{field}.group_a: not used by {kind}")
        role = f.get("role", "")
        if role:
            if kind not in ("partition", "unpartition"):
                raise Refused(f"{field}.role: not used by {kind}")
            if role not in ("primary", "workers"):
                raise Refused(f"{field}.role: must be \"primary\" or \"workers\", got \"{role}\"")
        ev["role"] = role
        end = dict(ev)
        if kind == "set_loss":
            if "loss" not in f:
                raise Refused(f"{field}.loss: required for set_loss")
            ev["loss"] = float(f["loss"])
            if not 0 <= ev["loss"] <= 1:
                raise Refused(f"{field}.loss: must be a probability in [0, 1]")
            end["loss"] = self.baseline_loss
        elif "loss" in f:
            raise Refused(f"{field}.loss: not used by {kind}")
        self.events.append(ev)
        if "until_s" in f:
            until = float(f["until_s"])
            if until <= at:
                raise Refused(f"{field}.until_s: must be after at_s")
            if until >= self.duration_s:
                raise Refused(f"{field}.until_s: {until} is not before the end of the run (duration_s {self.duration_s})")
            if kind not in UNTIL_END:
                raise Refused(f"{field}.until_s: {kind} has no end")
            end["kind"] = UNTIL_END[kind]
            end["at_s"] = until
            end["field"] = f"{field}.until_s"
            self.events.append(end)


def describe(ev):
    k = ev["kind"]
    if k in NODE_KINDS:
        return f"{k} {ev['node']}"
    if k in GROUP_KINDS:
        role = f" ({ev['role']})" if ev.get("role") else ""
        arrow = "->" if k in ("block", "unblock") else "|"
        return f"{k} {ev['group_a']}{role} {arrow} {ev['group_b']}"
    if k == "set_loss":
        return f"set_loss {ev['loss']}"
    return k


# ------------------------------------------------------------------ plumbing

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _child_setup():
    # Children die with the harness, even if it is killed with SIGKILL.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setpgrp()


def run(cmd, check=True, input=None, timeout=60):
    p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip() or p.stdout.strip()}")
    return p


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def list_netns():
    p = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def reap_stale_namespaces():
    """Namespaces of an earlier harness run whose process is gone (killed)."""
    for ns in list_netns():
        m = re.fullmatch(PREFIX + r"(\d+)-(h\d+|br|probe)", ns)
        if m and not pid_alive(int(m.group(1))):
            log(f"removing stale namespace {ns} (its harness, pid {m.group(1)}, is gone)")
            run(["ip", "netns", "del", ns], check=False)
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        m = re.fullmatch(PREFIX + r"(\d+)-[A-Za-z0-9_]{8}", name)
        if m and not pid_alive(int(m.group(1))) and os.path.isdir(os.path.join(tmp, name)):
            log(f"removing stale directory {os.path.join(tmp, name)} (its harness, pid {m.group(1)}, is gone)")
            shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)


def preflight():
    if os.geteuid() != 0:
        raise Skip("not root (network namespaces and nftables need CAP_NET_ADMIN)")
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            raise Skip(f"`{tool}` is not installed (tools/setup.sh installs nftables and iproute2)")
    probe = f"{PREFIX}{os.getpid()}-probe"
    try:
        p = run(["ip", "netns", "add", probe], check=False)
        if p.returncode != 0:
            raise Skip(f"cannot create a network namespace: {p.stderr.strip()}")
        p = run(["ip", "netns", "exec", probe, "nft", "-f", "-"], check=False,
                input=f"table inet {TABLE} {{\n  chain input {{\n    type filter hook input priority -10; "
                      f"policy accept;\n    iifname \"eth0\" numgen random mod 1000 < 1 drop\n  }}\n}}\n")
        if p.returncode != 0:
            raise Skip(f"nftables does not work inside a network namespace: {p.stderr.strip()}")
        p = run(["ip", "-n", probe, "link", "add", "nwhv0", "type", "veth", "peer", "name", "nwhv1"], check=False)
        if p.returncode != 0:
            raise Skip(f"cannot create veth pairs: {p.stderr.strip()}")
        p = run(["ip", "-n", probe, "link", "add", "nwhbr", "type", "bridge"], check=False)
        if p.returncode != 0:
            raise Skip(f"cannot create a bridge: {p.stderr.strip()}")
    finally:
        run(["ip", "netns", "del", probe], check=False)


# ------------------------------------------------------------------ the run


class Proc:
    def __init__(self, name, cmd, logpath):
        self.name = name
        self.cmd = cmd
        self.logpath = logpath
        self.popen = None
        self.expected_exit = False

    def start(self):
        self.expected_exit = False
        logf = open(self.logpath, "ab")
        logf.write(f"==== {time.strftime('%H:%M:%S')} start: {' '.join(self.cmd)}\n".encode())
        logf.flush()
        self.popen = subprocess.Popen(self.cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      preexec_fn=_child_setup)
        logf.close()

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            try:
                os.kill(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def kill9(self):
        self.expected_exit = True
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, timeout=5):
        if self.popen is None:
            return
        self.expected_exit = True
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def log_tail(self, n=6):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - 4000))
                lines = f.read().decode("utf-8", "replace").splitlines()
            return " | ".join(line.strip() for line in lines[-n:])
        except OSError:
            return ""


class Harness:
    def __init__(self, args, scenario):
        self.args = args
        self.sc = scenario
        self.n = scenario.nodes
        self.scale = args.time_scale
        self.pid = os.getpid()
        self.bridge_ns = f"{PREFIX}{self.pid}-br"
        self.host_ns = [f"{PREFIX}{self.pid}-h{i}" for i in range(self.n)]
        self.ips = [f"{SUBNET}.{i + 1}" for i in range(self.n)]
        self.created_ns = []
        self.nodes = {}  # authority -> [Proc primary, Proc worker 0, ...]
        self.clients = []  # (authority, worker, Proc)
        self.crashed = set()
        self.paused = set()
        self.blocked = set()  # (src, dst): src's packets to dst are dropped
        self.role_cut = set()  # (x, y, role): x's `role` processes cut from y
        self.loss = scenario.baseline_loss
        self.violations = []
        self.applied = []  # [scenario time, unix us, description, skipped?]
        self.heal_points = []  # (unix us, scenario s, kind)
        self.notes = list(scenario.notes)
        self.keep = args.keep
        self.bin_node = os.path.join(args.bin_dir, "node", "narwhal_node")
        self.bin_client = os.path.join(args.bin_dir, "node", "narwhal_client")
        if not args.recheck:
            self.check_binaries()
        if self.keep:
            os.makedirs(self.keep, exist_ok=True)
            self.dir = os.path.abspath(self.keep)
        else:
            self.dir = tempfile.mkdtemp(prefix=f"{PREFIX}{self.pid}-")

    def check_binaries(self):
        for b in (self.bin_node, self.bin_client):
            if not os.access(b, os.X_OK):
                raise Refused(f"{b}: not found; build with `bazel build //node:narwhal_node //node:narwhal_client` "
                              "or pass --bin-dir")

    def violate(self, checker, evidence):
        log(f"VIOLATION {checker}: {evidence}")
        self.violations.append({"checker": checker, "evidence": evidence})

    # ---- namespaces

    def ns(self, name, *cmd, check=True, input=None):
        return run(["ip", "netns", "exec", name, *cmd], check=check, input=input)

    def setup_network(self):
        run(["ip", "netns", "add", self.bridge_ns])
        self.created_ns.append(self.bridge_ns)
        br = ["ip", "-n", self.bridge_ns]
        run(br + ["link", "set", "lo", "up"])
        run(br + ["link", "add", "br0", "type", "bridge"])
        run(br + ["link", "set", "br0", "up"])
        for i, h in enumerate(self.host_ns):
            run(["ip", "netns", "add", h])
            self.created_ns.append(h)
            run(["ip", "-n", h, "link", "set", "lo", "up"])
            # The veth is created inside the bridge namespace with its peer
            # directly in the host namespace: the root namespace never sees it.
            run(br + ["link", "add", f"v{i}", "type", "veth", "peer", "name", "eth0", "netns", h])
            run(br + ["link", "set", f"v{i}", "master", "br0"])
            run(br + ["link", "set", f"v{i}", "up"])
            run(["ip", "-n", h, "addr", "add", f"{self.ips[i]}/24", "dev", "eth0"])
            run(["ip", "-n", h, "link", "set", "eth0", "up"])
            if self.args.bandwidth_mbit:
                m = self.args.bandwidth_mbit
                run(["ip", "netns", "exec", h, "tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate",
                     f"{m}mbit", "burst", f"{max(32, int(m * 4))}kb", "latency", "200ms"])
        log(f"namespaces {self.bridge_ns}, {self.host_ns[0]}..{self.host_ns[-1]}: "
            f"{self.ips[0]}..{self.ips[-1]} on a bridge"
            + (f", egress limited to {self.args.bandwidth_mbit} Mbit/s per host (tc tbf)"
               if self.args.bandwidth_mbit else ""))
        self.apply_rules()

    def copy_logs(self, dest):
        os.makedirs(dest, exist_ok=True)
        for name in sorted(os.listdir(self.dir)):
            if name.startswith(("log-", "nft-", "stream-")) or name in ("committee.json", "run.json"):
                shutil.copy(os.path.join(self.dir, name), dest)
        log(f"logs of the failed run copied to {dest}")

    def teardown(self, logs_to=""):
        for _, _, c in self.clients:
            c.stop(timeout=2)
        for procs in self.nodes.values():
            for p in procs:
                p.signal(signal.SIGCONT)
        for procs in self.nodes.values():
            for p in procs:
                p.expected_exit = True
                p.signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for procs in self.nodes.values():
            for p in procs:
                if p.popen is None:
                    continue
                try:
                    p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.signal(signal.SIGKILL)
                    try:
                        p.popen.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        pass
        for ns in reversed(self.created_ns):
            p = run(["ip", "netns", "del", ns], check=False)
            if p.returncode != 0:
                log(f"warning: ip netns del {ns}: {p.stderr.strip()}")
        self.created_ns = []
        if logs_to:
            self.copy_logs(logs_to)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- committee and processes

    def ports(self, a):
        w = self.sc.workers
        base = BASE_PORT + a * (2 + 2 * w)
        return {"primary": base, "output": base + 1,
                "workers": [base + 2 + 2 * k for k in range(w)],
                "transactions": [base + 3 + 2 * k for k in range(w)]}

    def make_committee(self):
        cmd = [self.bin_node, "committee", "--nodes", str(self.n), "--workers", str(self.sc.workers),
               "--base_port", str(BASE_PORT), "--hosts", ",".join(self.ips), "--keys_dir",
               os.path.join(self.dir, "keys"), "--generate_keys", "--out", os.path.join(self.dir, "committee.json")]
        extra = {}
        for k, v in self.sc.parameters.items():
            if k in PARAM_FLAGS:
                cmd += [f"--{k}", str(v)]
            else:
                extra[k] = v
        run(cmd)
        path = os.path.join(self.dir, "committee.json")
        if extra or self.sc.stakes:
            with open(path) as f:
                cfg = json.load(f)
            cfg.setdefault("parameters", {}).update(extra)
            for i, stake in enumerate(self.sc.stakes):
                cfg["committee"]["authorities"][i]["stake"] = str(stake)
            with open(path, "w") as f:
                json.dump(cfg, f, indent=1)
            if extra:
                self.notes.append(f"parameters {sorted(extra)} written into the committee file (no committee flag)")
        with open(path) as f:
            cfg = json.load(f)
        for i, a in enumerate(cfg["committee"]["authorities"]):
            want = self.ports(i)
            assert a["primary_address"] == f"{self.ips[i]}:{want['primary']}", a["primary_address"]
        self.params = cfg.get("parameters", {})
        log("committee: " + ", ".join(f"{k}={v}" for k, v in sorted(self.params.items())
                                      if k in PARAM_FLAGS or k in extra))

    def node_procs(self, a):
        procs = []
        store = os.path.join(self.dir, f"store-{a}")
        roles = ["primary"] + [f"worker:{k}" for k in range(self.sc.workers)]
        for role in roles:
            cmd = ["ip", "netns", "exec", self.host_ns[a], self.bin_node, "run", "--config",
                   os.path.join(self.dir, "committee.json"), "--keys", os.path.join(self.dir, "keys", f"key-{a}.json"),
                   "--authority", str(a), "--role", role, "--store", store]
            name = f"{a}-{role.replace(':', '')}"
            procs.append(Proc(name, cmd, os.path.join(self.dir, f"log-{name}.txt")))
        return procs

    def start_nodes(self):
        for a in range(self.n):
            self.nodes[a] = self.node_procs(a)
            for p in self.nodes[a]:
                p.start()
        self.wait_started(list(range(self.n)))

    def wait_started(self, authorities, timeout=30):
        deadline = time.monotonic() + timeout
        pending = [p for a in authorities for p in self.nodes[a]]
        while pending and time.monotonic() < deadline:
            still = []
            for p in pending:
                if not p.alive():
                    raise RuntimeError(f"process {p.name} exited at start (code {p.popen.returncode}): {p.log_tail()}")
                with open(p.logpath, "rb") as f:
                    text = f.read()
                # Only the last start's lines count (restarts append).
                if b" started at " not in text[text.rfind(b"==== "):]:
                    still.append(p)
            pending = still
            if pending:
                time.sleep(0.1)
        if pending:
            raise RuntimeError(f"processes did not start within {timeout} s: {[p.name for p in pending]}")

    def start_clients(self, load_s, wait_s):
        if self.sc.tps <= 0:
            return
        rate = self.sc.tps / (self.n * self.sc.workers)
        for a in range(self.n):
            for k in range(self.sc.workers):
                port = self.ports(a)["transactions"][k]
                cmd = ["ip", "netns", "exec", self.host_ns[a], self.bin_client, "submit", "--worker",
                       f"{self.ips[a]}:{port}", "--rate", f"{rate:.3f}", "--duration_s", f"{load_s:.3f}",
                       "--wait_s", f"{wait_s:.3f}", "--size", str(self.sc.tx_size)]
                p = Proc(f"client-{a}-{k}", cmd, os.path.join(self.dir, f"log-client-{a}-{k}.txt"))
                p.start()
                self.clients.append((a, k, p))
        log(f"load: {len(self.clients)} clients x {rate:.1f} tx/s of {self.sc.tx_size} bytes for {load_s:.1f} s")

    # ---- faults

    def apply_rules(self):
        """Rewrites every host's nftables table from the fault state, atomically."""
        for y in range(self.n):
            rules = []
            for (src, dst) in sorted(self.blocked):
                if dst == y:
                    rules.append(f"ip saddr {self.ips[src]} drop")
            for (x, z, role) in sorted(self.role_cut):
                if y not in (x, z):
                    continue
                other = z if y == x else x
                ports = set()
                for a in (x, z):
                    ports |= {self.ports(a)["primary"]} if role == "primary" else set(self.ports(a)["workers"])
                pset = "{ " + ", ".join(str(p) for p in sorted(ports)) + " }"
                rules.append(f"ip saddr {self.ips[other]} tcp sport {pset} drop")
                rules.append(f"ip saddr {self.ips[other]} tcp dport {pset} drop")
            if self.loss > 0:
                rules.append(f"numgen random mod 1000000 < {int(round(self.loss * 1e6))} drop")
            body = "".join(f"    iifname \"eth0\" {r}\n" for r in rules)
            text = (f"table inet {TABLE}\ndelete table inet {TABLE}\n"
                    f"table inet {TABLE} {{\n  chain input {{\n"
                    f"    type filter hook input priority -10; policy accept;\n{body}  }}\n}}\n")
            self.ns(self.host_ns[y], "nft", "-f", "-", input=text)
            if self.keep:
                with open(os.path.join(self.dir, f"nft-h{y}.txt"), "a") as f:
                    f.write(f"# {time.strftime('%H:%M:%S')}\n{text}\n")

    def apply(self, ev, t_s):
        k = ev["kind"]
        desc = describe(ev)
        skipped = ""
        net_changed = False
        if k in ("partition", "unpartition"):
            for x in ev["group_a"]:
                for y in ev["group_b"]:
                    if ev.get("role"):
                        key = (x, y, ev["role"])
                        (self.role_cut.add if k == "partition" else self.role_cut.discard)(key)
                    else:
                        for pair in ((x, y), (y, x)):
                            (self.blocked.add if k == "partition" else self.blocked.discard)(pair)
            net_changed = True
        elif k in ("block", "unblock"):
            for x in ev["group_a"]:
                for y in ev["group_b"]:
                    (self.blocked.add if k == "block" else self.blocked.discard)((x, y))
            net_changed = True
        elif k == "set_loss":
            self.loss = ev["loss"]
            net_changed = True
        elif k in ("heal", "heal_all"):
            self.blocked.clear()
            self.role_cut.clear()
            if k == "heal_all":
                self.loss = self.sc.baseline_loss
            net_changed = True
        elif k == "crash":
            if ev["node"] in self.crashed:
                skipped = "already down"
            else:
                for p in self.nodes[ev["node"]]:
                    p.kill9()
                self.crashed.add(ev["node"])
                self.paused.discard(ev["node"])
        elif k == "restart":
            if ev["node"] not in self.crashed:
                skipped = "not down"
            else:
                self.restart(ev["node"])
        elif k == "pause":
            if ev["node"] in self.crashed or ev["node"] in self.paused:
                skipped = "down or already paused"
            else:
                for p in self.nodes[ev["node"]]:
                    p.signal(signal.SIGSTOP)
                self.paused.add(ev["node"])
        elif k == "resume":
            if ev["node"] not in self.paused:
                skipped = "not paused"
            else:
                for p in self.nodes[ev["node"]]:
                    p.signal(signal.SIGCONT)
                self.paused.discard(ev["node"])
        if k == "heal_all":
            for a in sorted(self.paused):
                for p in self.nodes[a]:
                    p.signal(signal.SIGCONT)
            self.paused.clear()
            for a in sorted(self.crashed):
                self.restart(a)
        if net_changed:
            self.apply_rules()
        now_us = int(time.time() * 1e6)
        self.applied.append({"at_s": round(t_s, 3), "kind": k, "describe": desc, "skipped": skipped})
        log(f"t={t_s:6.2f}s fault: {desc}" + (f" (skipped: {skipped})" if skipped else ""))
        if k in ("heal", "heal_all"):
            self.heal_points.append((now_us, t_s, k))
        return now_us

    def restart(self, a):
        for p in self.nodes[a]:
            p.start()
        self.crashed.discard(a)
        try:
            self.wait_started([a], timeout=30)
        except RuntimeError as e:
            self.violate("process", f"authority {a} did not restart: {e}")

    def check_processes(self):
        for a, procs in self.nodes.items():
            for p in procs:
                if p.popen is not None and not p.expected_exit and p.popen.poll() is not None:
                    p.expected_exit = True
                    self.violate("process", f"{p.name} exited on its own (code {p.popen.returncode}): {p.log_tail()}")

    # ---- the run

    def run(self):
        sc = self.sc
        duration = sc.duration_s * self.scale
        drain = sc.drain_s * self.scale
        load_s = max(0.0, duration - drain)
        wait_s = max(1.0, drain - 3.0)
        self.setup_network()
        self.make_committee()
        self.start_nodes()
        log(f"{self.n} authorities up ({self.n * (1 + sc.workers)} processes); scenario {sc.name}: "
            f"{duration:.1f} s, load until {load_s:.1f} s, {len(sc.events)} fault events")
        t0 = time.monotonic()
        self.t0_unix_us = int(time.time() * 1e6)
        self.start_clients(load_s, wait_s)
        pending = list(sc.events)
        last_fault_us = None
        while True:
            t = time.monotonic() - t0
            while pending and pending[0]["at_s"] * self.scale <= t:
                last_fault_us = self.apply(pending.pop(0), t)
            self.check_processes()
            if t >= duration:
                break
            nxt = min([duration] + [e["at_s"] * self.scale for e in pending])
            time.sleep(max(0.0, min(0.1, nxt - t)))
        self.end_unix_us = int(time.time() * 1e6)
        # The simulator's heal: the last fault event (heal_at_s included).
        if last_fault_us is not None and all(us != last_fault_us for us, _, _ in self.heal_points):
            self.heal_points.append((last_fault_us, sc.events[-1]["at_s"] * self.scale, "last fault"))
        self.reports = self.collect_clients()
        self.streams = self.read_streams()
        self.save_run()
        self.check()

    RUN_FIELDS = ("t0_unix_us", "end_unix_us", "heal_points", "crashed", "paused", "reports", "applied")

    def save_run(self):
        """With --keep: what --recheck needs to check the kept streams again."""
        if not self.keep:
            return
        shutil.copyfile(self.sc.path, os.path.join(self.dir, "scenario.json"))
        run = {k: getattr(self, k) for k in self.RUN_FIELDS}
        run["crashed"], run["paused"] = sorted(self.crashed), sorted(self.paused)
        run["time_scale"] = self.scale
        run["violations_during_run"] = list(self.violations)
        with open(os.path.join(self.dir, "run.json"), "w") as f:
            json.dump(run, f)

    def load_run(self):
        with open(os.path.join(self.dir, "run.json")) as f:
            run = json.load(f)
        for k in self.RUN_FIELDS:
            setattr(self, k, run[k])
        self.heal_points = [tuple(x) for x in self.heal_points]
        self.crashed, self.paused = set(self.crashed), set(self.paused)
        self.violations = list(run["violations_during_run"])
        self.streams = {}
        for a in range(self.n):
            path = os.path.join(self.dir, f"stream-{a}.json")
            if os.path.exists(path):
                with open(path) as f:
                    self.streams[a] = json.load(f)

    def collect_clients(self):
        reports = []
        for a, k, p in self.clients:
            try:
                p.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.signal(signal.SIGINT)  # it prints its report on SIGINT
                try:
                    p.popen.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.signal(signal.SIGKILL)
                    p.popen.wait()
            report = None
            with open(p.logpath, "rb") as f:
                for line in f.read().decode("utf-8", "replace").splitlines():
                    if line.startswith("{") and '"client_id"' in line:
                        report = json.loads(line)
            if report is None:
                self.violate("harness", f"client {a}/{k} printed no report (exit {p.popen.returncode}): {p.log_tail()}")
                continue
            report["authority"], report["worker"] = a, k
            reports.append(report)
        return reports

    def run_readers(self, jobs, timeout_s):
        """jobs: authority -> extra reader flags. Runs them in parallel, inside
        each authority's namespace; returns authority -> summary."""
        readers = {}
        reader = os.path.join(HERE, "stream_reader.py")
        for a, extra in jobs.items():
            out = os.path.join(self.dir, f"stream-{a}.part.json")
            cmd = ["ip", "netns", "exec", self.host_ns[a], sys.executable, reader, "--output",
                   f"{self.ips[a]}:{self.ports(a)['output']}", "--out", out, "--timeout_s", str(timeout_s), *extra]
            p = Proc(f"reader-{a}", cmd, os.path.join(self.dir, f"log-reader-{a}.txt"))
            p.start()
            readers[a] = (p, out)
        results = {}
        for a, (p, out) in readers.items():
            try:
                p.popen.wait(timeout=timeout_s + 30)
            except subprocess.TimeoutExpired:
                p.signal(signal.SIGKILL)
                p.popen.wait()
            try:
                with open(out) as f:
                    results[a] = json.load(f)
                os.unlink(out)
            except (OSError, json.JSONDecodeError):
                self.violate("output", f"authority {a}: the stream could not be read: {p.log_tail()}")
        return results

    def read_streams(self):
        # Phase 1: every up primary's stream from index 0 up to what it had
        # committed when its reader started.
        jobs = {}
        for a in range(self.n):
            if a in self.crashed or a in self.paused:
                log(f"authority {a} is {'down' if a in self.crashed else 'paused'} at the end: its stream is not read")
                continue
            jobs[a] = []
        streams = self.run_readers(jobs, self.args.reader_timeout_s)
        # Phase 2: the readers did not start at the same instant and commits
        # go on, so "the end" is the highest index any of them saw: every
        # stream must reach it (a lagging authority gets CATCH_UP_S to).
        if streams:
            target = max(s["next_index"] for s in streams.values()) - 1
            short = {a: ["--from", str(s["next_index"]), "--until_index", str(target)]
                     for a, s in streams.items() if s["next_index"] - 1 < target and not s.get("error")}
            if short:
                log(f"catching up to index {target}: " + ", ".join(
                    f"authority {a} from {streams[a]['next_index']}" for a in short))
                for a, more in self.run_readers(short, CATCH_UP_S).items():
                    s = streams[a]
                    for k in ("sub_dags", "latencies_ms", "unavailable_batches", "bad_batches", "gaps"):
                        s[k] += more[k]
                    for k in ("foreign_transactions", "committed_transactions", "committed_certificates"):
                        s[k] += more[k]
                    for client, counters in more["transactions"].items():
                        s["transactions"].setdefault(client, []).extend(counters)
                    for k in ("next_index", "reached_end", "error"):
                        s[k] = more[k]
                    s["end_reason"] += f"; then {more['end_reason'] or more['error']}"
        for a, s in streams.items():
            with open(os.path.join(self.dir, f"stream-{a}.json"), "w") as f:
                json.dump(s, f)
        return streams

    # ---- checks

    def check(self):
        self.check_processes()
        streams = self.streams
        # (1) Agreement over the common prefix; every stream reaches the end.
        for a, s in sorted(streams.items()):
            if s.get("error"):
                self.violate("output", f"authority {a}: {s['error']}")
            if not s.get("reached_end"):
                self.violate("output", f"authority {a}: the stream did not reach the end: {s.get('end_reason')}")
            if s.get("gaps"):
                self.violate("output", f"authority {a}: gaps in the stream: {s['gaps'][:5]}")
        by_index = {}
        for a, s in sorted(streams.items()):
            for sd in s["sub_dags"]:
                by_index.setdefault(sd[0], []).append((a, sd))
        mismatches = 0
        for idx in sorted(by_index):
            entries = by_index[idx]
            ref_a, ref = entries[0]
            for a, sd in entries[1:]:
                if sd[1] != ref[1]:
                    mismatches += 1
                    if mismatches <= 3:
                        self.violate("agreement", f"index {idx}: authority {ref_a} committed leader {ref[2][:16]} "
                                                  f"round {ref[3]} ({len(ref[5])} certificates), authority {a} "
                                                  f"leader {sd[2][:16]} round {sd[3]} ({len(sd[5])} certificates)")
        end = max((s["next_index"] for s in streams.values()), default=0) - 1
        for a, s in sorted(streams.items()):
            if s["next_index"] - 1 < end:
                self.violate("output", f"authority {a}: its stream ends at index {s['next_index'] - 1}, before "
                                       f"index {end} (the last any authority committed), {CATCH_UP_S} s after "
                                       f"the others: {s.get('end_reason')}")
        ref_a = max(streams, key=lambda a: streams[a]["next_index"]) if streams else None
        ref = streams.get(ref_a)
        # (2) Integrity and availability: transactions.
        clients = {str(r["client_id"]): r for r in self.reports}
        for a, s in sorted(streams.items()):
            for idx, d in s["bad_batches"][:3]:
                self.violate("integrity", f"authority {a}: index {idx}: batch {d[:16]}'s transactions do not "
                                          "match its digest")
            if s["unavailable_batches"]:
                idx, d = s["unavailable_batches"][0]
                self.violate("availability", f"authority {a}: {len(s['unavailable_batches'])} batches output as "
                                             f"unavailable, first at index {idx} ({d[:16]})")
            if s["foreign_transactions"]:
                self.violate("integrity", f"authority {a}: {s['foreign_transactions']} committed transactions "
                                          "are not the load's")
            for client, counters in s["transactions"].items():
                dups = len(counters) - len(set(counters))
                if dups:
                    self.violate("integrity", f"authority {a}: client {client}: {dups} transactions committed twice")
                r = clients.get(client)
                if r is None:
                    self.violate("integrity", f"authority {a}: {len(counters)} transactions of an unknown client "
                                              f"{client} committed")
                    continue
                limit = r["submitted"] + r["not_sent"]
                beyond = [c for c in counters if c >= limit]
                if beyond:
                    self.violate("integrity", f"authority {a}: client {client}: transactions {beyond[:5]} committed "
                                              f"but it sent only {limit}")
        if ref is not None:
            for client, r in sorted(clients.items()):
                got = len(set(ref["transactions"].get(client, [])))
                if got < r["accepted"]:
                    self.violate("availability", f"client of authority {r['authority']} (id {client}): "
                                                 f"{r['accepted']} transactions accepted, {got} committed "
                                                 f"(authority {ref_a}'s stream)")
                if got > r["sequenced"]:
                    self.violate("integrity", f"client of authority {r['authority']} (id {client}): {got} "
                                              f"transactions committed, only {r['sequenced']} sequenced")
        # (3) Liveness after each heal: every authority up then (and not hit
        # by a fault inside the window) has certificates committed.
        commit_us = {}  # index -> first commit time at any authority
        for idx, entries in by_index.items():
            ts = [sd[4] for _, sd in entries if sd[4] > 0]
            if ts:
                commit_us[idx] = min(ts)
        author_times = {}
        for idx, entries in by_index.items():
            if idx not in commit_us:
                continue
            for c in entries[0][1][5]:
                author_times.setdefault(c[0], []).append(commit_us[idx])
        bound_us = self.liveness_bound_s() * 1e6
        self.recovery = []
        for heal_us, heal_s, kind in self.heal_points:
            firsts = {}
            for a in range(self.n):
                after = [t for t in author_times.get(a, []) if t > heal_us]
                firsts[str(a)] = round((min(after) - heal_us) / 1e6, 2) if after else None
            self.recovery.append({"at_s": round(heal_s, 2), "kind": kind, "first_certificate_s": firsts})
        seen = set()
        for heal_us, heal_s, kind in self.heal_points:
            if heal_us in seen:
                continue
            seen.add(heal_us)
            if self.end_unix_us - heal_us < bound_us:
                self.notes.append(f"liveness after the {kind} at {heal_s:.1f} s not checked: the run ends "
                                  f"{(self.end_unix_us - heal_us) / 1e6:.1f} s later, before the bound")
                continue
            if not any(heal_us < t <= heal_us + bound_us for t in commit_us.values()):
                self.violate("liveness", f"no commit within {bound_us / 1e6:.0f} s after the {kind} at {heal_s:.1f} s")
            for a in self.required_after(heal_s, kind):
                ts = author_times.get(a, [])
                if not any(heal_us < t <= heal_us + bound_us for t in ts):
                    before = [t for t in ts if t <= heal_us]
                    last = f"{(max(before) - self.t0_unix_us) / 1e6:.1f} s" if before else "none"
                    self.violate("authority_liveness", f"no certificate of authority {a} was committed within "
                                                       f"{bound_us / 1e6:.0f} s after the {kind} at {heal_s:.1f} s "
                                                       f"(its last before then: {last})")

    def liveness_bound_s(self):
        # Protocol timers do not scale: a --time-scale below 1 keeps the bound.
        return self.sc.liveness_bound_s * max(1.0, self.scale)

    def required_after(self, heal_s, kind):
        """Authorities that must have certificates committed after this heal."""
        if kind == "last fault":
            return [a for a in range(self.n) if a not in self.crashed and a not in self.paused]
        # State right after the heal, replayed from the scenario's events.
        down = set()
        for ev in self.sc.events:
            t = ev["at_s"] * self.scale
            if t > heal_s + 1e-9:
                break
            if ev["kind"] in ("crash", "pause"):
                down.add(ev["node"])
            elif ev["kind"] in ("restart", "resume"):
                down.discard(ev["node"])
            elif ev["kind"] == "heal_all":
                down.clear()
        window_end = heal_s + self.liveness_bound_s()
        hit = set()
        for ev in self.sc.events:
            t = ev["at_s"] * self.scale
            if heal_s < t <= window_end and ev["kind"] in ("crash", "pause", "partition", "block"):
                hit |= {ev["node"]} if "node" in ev else set(ev["group_a"]) | set(ev["group_b"])
        return [a for a in range(self.n) if a not in down and a not in hit]

    # ---- summary

    def summary(self, wall_s):
        streams = self.streams
        ref = max(streams.values(), key=lambda s: s["next_index"]) if streams else None
        lat = sorted(x for s in streams.values() for x in s["latencies_ms"])

        def pct(p):
            if not lat:
                return 0.0
            return round(lat[min(len(lat) - 1, int(p * (len(lat) - 1) + 0.5))], 1)

        return {
            "seed": 0,
            "nodes": self.n,
            "world": "netns",
            "scenario": self.sc.name,
            "time_scale": self.scale,
            "duration_s": round(self.sc.duration_s * self.scale, 3),
            "violations": len(self.violations),
            "violation_details": self.violations,
            "committed_sub_dags": ref["next_index"] if ref else 0,
            "committed_certificates": ref["committed_certificates"] if ref else 0,
            "committed_transactions": ref["committed_transactions"] if ref else 0,
            "accepted_transactions": sum(r["accepted"] for r in self.reports),
            "submitted_transactions": sum(r["submitted"] for r in self.reports),
            "commit_latency_ms_p50": pct(0.5),
            "commit_latency_ms_p99": pct(0.99),
            # Per heal: seconds until each authority's first certificate
            # committed after it (null: none).
            "heal_recovery": getattr(self, "recovery", []),
            "streams_read": sorted(streams),
            "faults_applied": self.applied,
            "notes": self.notes,
            "wall_s": round(wall_s, 1),
        }


def recheck(args):
    d = os.path.abspath(args.recheck)
    try:
        scenario = Scenario(os.path.join(d, "scenario.json"))
        with open(os.path.join(d, "run.json")) as f:
            args.time_scale = json.load(f)["time_scale"]
    except (Refused, OSError) as e:
        print(f"harness: --recheck {d}: {e}", file=sys.stderr)
        return EXIT_USAGE
    args.keep = d
    h = Harness(args, scenario)
    h.load_run()
    h.check()
    print(json.dumps(h.summary(0.0)))
    return EXIT_VIOLATION if h.violations else EXIT_OK


def main():
    # `ip`, `nft` and `tc` live in sbin, which test runners often leave out.
    os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", help="a simulator scenario file (sim/scenario.proto)")
    ap.add_argument("--bin-dir", default="bazel-bin", help="where node/narwhal_node and node/narwhal_client are")
    ap.add_argument("--time-scale", type=float, default=1.0,
                    help="multiply the scenario's times (duration, faults, drain) by this")
    ap.add_argument("--keep", default="", help="keep logs, stores, committee, nft rules and streams in this directory")
    ap.add_argument("--logs-on-failure", default="", metavar="DIR",
                    help="on violations or errors, copy the logs, nft rules and stream summaries (not the stores) "
                         "into DIR")
    ap.add_argument("--bandwidth-mbit", type=float, default=0,
                    help="limit every host's egress to this many Mbit/s for the whole run (tc tbf)")
    ap.add_argument("--reader-timeout-s", type=float, default=180, dest="reader_timeout_s")
    ap.add_argument("--recheck", default="", metavar="DIR",
                    help="run no processes: check again the streams a run kept in DIR (--keep DIR)")
    args = ap.parse_args()
    if args.recheck:
        return recheck(args)
    if not args.scenario:
        ap.error("--scenario is required")
    if args.time_scale <= 0:
        print("harness: --time-scale must be > 0", file=sys.stderr)
        return EXIT_USAGE
    try:
        scenario = Scenario(args.scenario)
    except Refused as e:
        print(f"harness: {args.scenario}: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        preflight()
    except Skip as e:
        print(f"SKIPPED: {e}")
        return EXIT_SKIP
    reap_stale_namespaces()

    def on_signal(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)
    try:
        h = Harness(args, scenario)
    except Refused as e:
        print(f"harness: {e}", file=sys.stderr)
        return EXIT_USAGE
    for note in scenario.notes:
        log(f"note: {note}")
    start = time.monotonic()
    failure = None
    try:
        h.run()
    except Interrupted as e:
        failure = ("interrupted", str(e))
    except Exception as e:  # noqa: BLE001 - anything: report, clean up
        failure = ("harness", f"{type(e).__name__}: {e}")
    finally:
        # Always clean up; signals are ignored meanwhile so it completes.
        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        if failure:
            log(f"{failure[0]}: {failure[1]}: cleaning up")
        failed = bool(failure) or bool(h.violations)
        h.teardown(logs_to=args.logs_on_failure if failed else "")
    if failure and failure[0] == "interrupted":
        return 130
    if failure:
        print(json.dumps({"world": "netns", "scenario": scenario.name, "violations": 1, "violation_details": [
            {"checker": "harness", "evidence": failure[1]}]}))
        return EXIT_VIOLATION
    result = h.summary(time.monotonic() - start)
    if args.keep:
        with open(os.path.join(h.dir, "summary.json"), "w") as f:
            json.dump(result, f, indent=1)
        log(f"kept logs, stores and streams in {h.dir}")
    print(json.dumps(result))
    return EXIT_VIOLATION if h.violations else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
