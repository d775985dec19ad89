#!/usr/bin/env python3
"""What one create costs Redis, and what it would cost without Lua.

Starts a private Redis (port 6394, no persistence) and `bpm-compat serve` on it
(127.0.0.1:18094), starts one instance through the Flowable REST API with the benchmark's
body (business key, five variables), captures the create function's FCALL with MONITOR, and
then writes N such instances (business keys bench-<i>) into the emptied Redis in each of
three ways, ROUNDS times in turn, printing Redis' CPU time per instance (INFO cpu, user +
sys; the client's own time does not count):

  fcall  the create function, called as the server calls it
  noop   a function that returns at once, called with the same arguments: what receiving
         and dispatching such a call costs before any of the function's work
  plain  the same hashes and index entries written with plain commands in MULTI/EXEC: ids
         from blocks the client reserves (INCRBY of the shard's counter), every index entry
         as ZADD to its chunk, ZADD of the chunk to the index's directory and INCR of its
         count, the business key with HSETNX (a new one; an existing one needs the
         read-modify-write the function does) — what a create without Lua would send

Usage: scripts/redis-create-cost.py [BIN] [N] [ROUNDS]
  BIN defaults to target/release/bpm-compat, N to 20000, ROUNDS to 3.
Requests are pipelined 50 at a time. For comparing the three, not for throughput.
"""

import base64
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REDIS_PORT = 6394
SERVER = "127.0.0.1:18094"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_BODY = (
    '{"processDefinitionKey":"oneTaskProcess","businessKey":"bench-0","variables":['
    '{"name":"v1","value":"text"},{"name":"v2","value":42},{"name":"v3","value":true},'
    '{"name":"v4","value":3.5},{"name":"v5","value":"x"}]}'
)


def encode(cmd):
    out = [b"*%d\r\n" % len(cmd)]
    for a in cmd:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Redis:
    """A minimal RESP client: pipelines commands and reads (and checks) their replies."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    def reply(self):
        line = self.file.readline()
        kind, rest = line[:1], line[1:].strip()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind in (b"+", b":"):
            return rest
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b"*":
            return [self.reply() for _ in range(max(int(rest), 0))]
        raise RuntimeError(f"unexpected reply {line!r}")

    def run(self, cmds):
        self.sock.sendall(b"".join(encode(c) for c in cmds))
        return [self.reply() for _ in cmds]

    def cpu(self):
        info = self.run([["INFO", "cpu"]])[0].decode()
        fields = dict(l.split(":", 1) for l in info.split("\r\n") if ":" in l)
        return float(fields["used_cpu_user"]) + float(fields["used_cpu_sys"])


def capture_create(bin_path):
    """The create function's FCALL for one start, as MONITOR shows it (split into arguments)."""
    server = subprocess.Popen(
        [bin_path, "serve", "--listen", SERVER, "--store", f"redis://127.0.0.1:{REDIS_PORT}",
         "--definitions", os.path.join(ROOT, "fixtures/definitions")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(SERVER.split(":")).close()
                break
            except OSError:
                time.sleep(0.1)
        monitor = Redis(REDIS_PORT)
        monitor.sock.settimeout(10)
        monitor.run([["MONITOR"]])
        req = urllib.request.Request(
            f"http://{SERVER}/flowable-rest/service/runtime/process-instances",
            data=START_BODY.encode(), method="POST",
            headers={"Content-Type": "application/json",
                     "Authorization": "Basic " + base64.b64encode(b"rest-admin:test").decode()})
        urllib.request.urlopen(req).read()
        while True:
            line = monitor.reply().decode()
            if '"FCALL"' in line and "_create" in line:
                return shlex.split(line.split("] ", 1)[1])
    finally:
        server.terminate()
        server.wait()


def bucket(bk):
    """`bk_bucket` of lua/common.lua."""
    h = 0
    for b in bk.encode():
        h = (h * 31 + b) % 4096
    return h


def main():
    bin_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/bpm-compat")
    n_creates = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    workdir = tempfile.mkdtemp()
    subprocess.run(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--daemonize", "yes", "--dir", workdir], check=True,
                   stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        call = capture_create(bin_path)
        r = Redis(REDIS_PORT)
        # FCALL name 1 base first span state key tenant has-bk bk n fields... (create.lua)
        name, base, first = call[1], call[3], int(call[4])
        n = int(call[11])
        fields = call[12:12 + n]
        hn = int(call[12 + n])
        history = call[13 + n:13 + n + hn]
        task = call[13 + n + hn:]
        task_fields = task[2:2 + int(task[1])]
        noop = name.replace("_create", "_noop")
        r.run([["FUNCTION", "LOAD", "REPLACE", "#!lua name=costnoop\n"
                f"redis.register_function('{noop}', function(KEYS, ARGV) return 1 end)"]])

        def with_bk(args, i):
            return [f"bench-{i}" if a == "bench-0" else a for a in args]

        def fcall(i, _seq):
            return [with_bk(call, i)]

        def noop_call(i, _seq):
            return [["FCALL", noop] + with_bk(call[2:], i)]

        def plain(i, seq):
            iid, tid = str(first + seq), str(first + seq + 1)
            cmds = [["INCRBY", base + "seq", "64"]] if seq % 64 == 1 else []
            cmds += [
                ["MULTI"],
                ["HSET", base + "i:" + iid] + with_bk(fields, i) + ["tk:" + tid, ""],
                ["HSET", base + "h:" + iid] + history,
                ["HSET", base + "tk:" + tid, "p", iid] + task_fields,
                ["HSETNX", base + f"bk:{bucket(f'bench-{i}')}", f"bench-{i}", iid],
            ]
            for index, member in (("open", iid), ("k:oneTaskProcess", iid), ("to", tid)):
                chunk = member[:-2]
                cmds += [["ZADD", f"{base}c{chunk}:{index}", "0", member],
                         ["ZADD", f"{base}x:{index}", "0", chunk],
                         ["INCR", f"{base}n:{index}"]]
            return cmds + [["EXEC"]]

        results = {}
        for _ in range(rounds):
            for label, make in (("fcall", fcall), ("noop", noop_call), ("plain", plain)):
                r.run([["FLUSHALL"]])
                before = r.cpu()
                for j in range(0, n_creates, 50):
                    batch = []
                    for i in range(j, min(j + 50, n_creates)):
                        batch += make(i, 2 * i + 1)
                    r.run(batch)
                used = (r.cpu() - before) / n_creates * 1e6
                keys = int(r.run([["DBSIZE"]])[0]) / n_creates
                results.setdefault(label, []).append(used)
                print(f"{label}: {used:.2f} µs of Redis CPU per instance ({keys:.2f} keys per instance)",
                      flush=True)
        for label, values in results.items():
            print(f"{label}: min {min(values):.2f} median {sorted(values)[len(values) // 2]:.2f} µs")
    finally:
        subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
