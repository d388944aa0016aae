#!/usr/bin/env python3
"""Metrics and health with a real Prometheus server (Debian's `prometheus`).

Starts 4 authorities (a primary and a worker process each, every process
serving --metrics_address), a client load on every worker, and Prometheus
scraping the 8 endpoints once a second. Then asks Prometheus' HTTP API:
  - every target is up;
  - every observer commits certificates of every author at a positive rate;
  - transactions are accepted at every worker, latency histograms fill;
  - every metric docs/metrics.md lists exists, and every narwhal_* metric
    scraped is listed there;
  - every expression of the Grafana dashboard (docs/grafana/) returns data.
Then health: `narwhal_node status` says healthy (exit 0); after authority 3
is killed, authority 0 says degraded naming a3.primary (exit 1), and
Prometheus shows narwhal_peer_unreachable for it and up == 0 for a3.

Exit 77 when the prometheus binary is missing (the sh_test wrapper counts it
as a skip with that message).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SKIP = 77


def free_port_range(count):
    """A base port with [base, base+count) free now, below the ephemeral range."""
    import random
    rng = random.Random(os.getpid() ^ int(time.time()))
    for _ in range(200):
        base = rng.randrange(20000, 31000)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


class Test:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="prometheus_test_")
        self.procs = {}
        self.failures = []

    def log(self, msg):
        print(msg, flush=True)

    def check(self, ok, what):
        self.log(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            self.failures.append(what)

    def spawn(self, name, argv):
        out = open(os.path.join(self.dir, name + ".log"), "w")
        self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def kill(self, name, sig=signal.SIGKILL):
        p = self.procs.get(name)
        if p and p.poll() is None:
            os.killpg(p.pid, sig)
            p.wait(timeout=10)

    def stop_all(self):
        for name in list(self.procs):
            p = self.procs[name]
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=10)
                except Exception:
                    os.killpg(p.pid, signal.SIGKILL)

    def query(self, expr):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.prom_port, urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise RuntimeError("query %s: %s" % (expr, body))
        return body["data"]["result"]

    def metric_names(self):
        url = "http://127.0.0.1:%d/api/v1/label/__name__/values" % self.prom_port
        with urllib.request.urlopen(url, timeout=10) as r:
            return set(json.load(r)["data"])

    def run(self):
        a = self.args
        node = a.node
        base = free_port_range(4 * 4 + 8 + 1)
        self.metrics_base = base + 16
        self.prom_port = base + 24
        config = os.path.join(self.dir, "committee.json")
        keys = os.path.join(self.dir, "keys")
        subprocess.run([node, "committee", "--nodes", "4", "--workers", "1", "--base_port", str(base),
                        "--keys_dir", keys, "--generate_keys", "--out", config,
                        "--max_header_delay_ms", "100", "--max_batch_delay_ms", "100"],
                       check=True, stdout=subprocess.DEVNULL)
        committee = json.load(open(config))
        targets = []
        for i in range(4):
            for k, role in enumerate(["primary", "worker:0"]):
                port = self.metrics_base + 2 * i + k
                targets.append("127.0.0.1:%d" % port)
                self.spawn("a%d-%s" % (i, role.replace(":", "")),
                           [node, "run", "--config", config, "--keys", os.path.join(keys, "key-%d.json" % i),
                            "--authority", str(i), "--role", role, "--store", os.path.join(self.dir, "s%d" % i),
                            "--metrics_address", "127.0.0.1:%d" % port, "--stats_interval_s", "5"])
        prom_config = os.path.join(self.dir, "prometheus.yml")
        with open(prom_config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: narwhal\n    static_configs:\n"
                    "      - targets: [%s]\n" % ", ".join('"%s"' % t for t in targets))
        self.spawn("prometheus", [a.prometheus, "--config.file", prom_config,
                                  "--storage.tsdb.path", os.path.join(self.dir, "tsdb"),
                                  "--web.listen-address", "127.0.0.1:%d" % self.prom_port])
        for i in range(4):
            worker = committee["committee"]["authorities"][i]["workers"][0]["transactions_address"]
            self.spawn("client%d" % i, [a.client, "submit", "--worker", worker, "--rate", "500",
                                        "--duration_s", "60", "--size", "256"])
        self.log("cluster, clients and Prometheus started in %s; waiting 25 s" % self.dir)
        time.sleep(25)

        up = self.query("up")
        self.check(len(up) == 8 and all(r["value"][1] == "1" for r in up),
                   "all 8 targets up (%s)" % sorted((r["metric"]["instance"], r["value"][1]) for r in up))
        rates = self.query("rate(narwhal_certificates_committed_total[10s])")
        pairs = {(r["metric"]["authority"], r["metric"]["author"]): float(r["value"][1]) for r in rates}
        self.check(len(pairs) == 16 and all(v > 0 for v in pairs.values()),
                   "committed-certificate rate > 0 for every author at every primary (%d series, min %.2f/s)"
                   % (len(pairs), min(pairs.values()) if pairs else 0))
        accepted = self.query('increase(narwhal_ingress_transactions_total{result="accepted"}[15s])')
        self.check(len(accepted) == 4 and all(float(r["value"][1]) > 0 for r in accepted),
                   "transactions accepted at every worker (%s)"
                   % [round(float(r["value"][1])) for r in accepted])
        p50 = self.query("histogram_quantile(0.5, sum by (le) (rate(narwhal_execution_latency_seconds_bucket[15s])))")
        self.check(len(p50) == 1 and 0 < float(p50[0]["value"][1]) < 10,
                   "execution latency p50 from the histogram: %s s" % (p50[0]["value"][1] if p50 else None))

        names = self.metric_names()
        scraped = {n for n in names if n.startswith("narwhal_")}
        documented = set(re.findall(r"`(narwhal_[a-z_]+)`", open(a.metrics_doc).read()))
        # Histograms are documented by their base name.
        base_names = {re.sub(r"_(bucket|sum|count)$", "", n) for n in scraped}
        missing = sorted(documented - base_names)
        undocumented = sorted(base_names - documented)
        self.check(not missing, "every metric in docs/metrics.md is scraped (missing: %s)" % missing)
        self.check(not undocumented, "every scraped narwhal_* metric is in docs/metrics.md (undocumented: %s)"
                   % undocumented)

        dashboard = json.load(open(a.dashboard))
        exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
        empty = []
        for e in exprs:
            q = e.replace("$__rate_interval", "15s").replace("$authority", ".*")
            if not self.query(q):
                empty.append(e)
        self.check(not empty, "all %d expressions of the Grafana dashboard return data (empty: %s)"
                   % (len(exprs), empty))
        used = set(re.findall(r"(narwhal_[a-z_]+)", " ".join(exprs)))
        used = {re.sub(r"_(bucket|sum|count)$", "", n) for n in used}
        self.check(used <= documented, "the dashboard queries only documented metrics (%s)"
                   % sorted(used - documented))

        status = subprocess.run([node, "status", "--config", config, "--authority", "0"],
                                capture_output=True, text=True)
        self.log(status.stdout.strip())
        self.check(status.returncode == 0 and status.stdout.count("healthy") == 2,
                   "narwhal_node status: authority 0 healthy, exit 0 (exit %d)" % status.returncode)

        self.kill("a3-primary")
        self.kill("a3-worker0")
        self.log("killed authority 3; waiting 14 s")
        time.sleep(14)
        status = subprocess.run([node, "status", "--config", config, "--authority", "0", "--role", "primary"],
                                capture_output=True, text=True)
        self.log(status.stdout.strip())
        self.check(status.returncode == 1 and "degraded" in status.stdout and "a3.primary" in status.stdout,
                   "narwhal_node status: authority 0 degraded naming a3.primary, exit 1 (exit %d)"
                   % status.returncode)
        dead = subprocess.run([node, "status", "--config", config, "--authority", "3", "--timeout_ms", "1000"],
                              capture_output=True, text=True)
        self.log(dead.stdout.strip())
        self.check(dead.returncode == 3 and "no answer" in dead.stdout,
                   "narwhal_node status of the killed authority: no answer, exit 3 (exit %d)" % dead.returncode)
        unreachable = self.query('narwhal_peer_unreachable{authority="0",role="primary",peer="a3.primary"}')
        self.check(len(unreachable) == 1 and unreachable[0]["value"][1] == "1",
                   "Prometheus: authority 0 sees a3.primary unreachable")
        healthy = self.query('narwhal_healthy{authority="0",role="primary"}')
        self.check(len(healthy) == 1 and healthy[0]["value"][1] == "0", "Prometheus: narwhal_healthy of a0 is 0")
        down = self.query('up == 0')
        self.check(len(down) == 2, "Prometheus: the 2 targets of authority 3 are down")
        rates = self.query('rate(narwhal_certificates_committed_total{authority="0"}[5s])')
        alive = {r["metric"]["author"]: float(r["value"][1]) for r in rates}
        self.check(all(alive.get(str(i), 0) > 0 for i in range(3)),
                   "the other three authors are still committed at authority 0 (%s)" % alive)

    def main(self):
        try:
            self.run()
        except Exception as e:  # a harness error is a failure, with the logs kept
            self.failures.append("harness error: %r" % e)
            self.log("FAIL  harness error: %r" % e)
        finally:
            self.stop_all()
        if self.failures:
            self.log("%d check(s) failed; logs in %s" % (len(self.failures), self.dir))
            for name in sorted(os.listdir(self.dir)):
                if name.endswith(".log"):
                    with open(os.path.join(self.dir, name)) as f:
                        tail = f.readlines()[-15:]
                    self.log("--- %s (last lines)\n%s" % (name, "".join(tail)))
            return 1
        shutil.rmtree(self.dir, ignore_errors=True)
        self.log("all checks passed")
        return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--node", required=True)
    p.add_argument("--client", required=True)
    p.add_argument("--metrics_doc", required=True)
    p.add_argument("--dashboard", required=True)
    p.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    args = p.parse_args()
    if not os.access(args.prometheus, os.X_OK):
        print("SKIPPED: no prometheus binary (Debian package `prometheus`; tools/setup.sh installs it)")
        return SKIP
    return Test(args).main()


if __name__ == "__main__":
    sys.exit(main())
