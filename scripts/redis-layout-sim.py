#!/usr/bin/env python3
"""Redis memory per instance under candidate key layouts, without changing the store.

Writes N instances shaped like the benchmark's (`bpm-compat bench --preload`: the one-task
process, a unique business key, five small variables, a starter link, one open task, three
activity records) straight into a scratch Redis, in the store's layout 1 (`layout1`) or with
some of the changes below, and prints `used_memory` growth per instance. Layout 1 and layout 2
(`C`, the store's layout since it chunked its indexes) reproduce what the real preload measures
(docs/PERFORMANCE.md), so the others say what a layout change would save before anyone writes
it.

    pip install redis
    redis-server --port 6391 --save '' --appendonly no --daemonize yes
    N=1000000 scripts/redis-layout-sim.py layout1 C CR CBR

A layout is `layout1` or any combination of these letters:
  H  activity records inside the instance hash (`h:<key>` fields), times relative to the
     instance's start (`st` field), instead of a hash of their own with absolute times
  B  the business-key index as fields of 4,096 bucket hashes per shard (business key -> id)
     instead of one sorted set per business key
  T  one-letter variable type codes (`s:"x"` for `string:"x"`)
  S  the starter link as a marker field (`l:s`) instead of its full JSON
  D  no definition id in the task hash (its instance has it)
  R  activity records in a hash of their own as now, but with times relative to the
     instance's start (kept in the hash as field `@`)
  C  the `open`, `k:` and `to` indexes chunked: the ids of each 128-id stretch of a shard in
     one small sorted set (`c<n>:<index>`, a listpack), a sorted set of the chunk numbers
     (`x:<index>`) and a member count (field `<index>` of the hash `n`): layout 2

FLUSHES the Redis it is pointed at (REDIS_PORT, default 6391).
"""
import os
import sys

import redis

N = int(os.environ.get("N", "200000"))
PORT = int(os.environ.get("REDIS_PORT", "6391"))
START = 1795572220870
TYPE_CODES = {"string": "s", "integer": "i", "boolean": "b", "double": "d"}


def bucket(business_key: str) -> int:
    h = 0
    for byte in business_key.encode():
        h = (h * 31 + byte) % 4096
    return h


def instance_fields(n: int, task_id: int, layout: str) -> dict:
    fields = {
        "c": f'["oneTaskProcess:1:6",1,{START},"theStart"]',
        "k": "oneTaskProcess",
        "s": "active",
        "b": f"bench-{n}",
        "a": "processTask",
        "su": "rest-admin",
        "o": "flowable",
        "v:v1": 'string:"text"',
        "v:v2": "integer:42",
        "v:v3": "boolean:true",
        "v:v4": "double:3.5",
        "v:v5": 'string:"x"',
        'l:["u","rest-admin","starter"]': "",
        f"tk:{task_id}": "",
    }
    if "H" in layout:
        fields["c"] = '["oneTaskProcess:1:6",1,"theStart"]'
        fields["st"] = str(START)
        fields.update({"h:0.0": "0|theStart|0", "h:0.1": "0|flow1|0", "h:0.2": "0|processTask|"})
    if "T" in layout:
        for name, value in list(fields.items()):
            if name.startswith("v:"):
                type_name, content = value.split(":", 1)
                fields[name] = f"{TYPE_CODES[type_name]}:{content}"
    if "S" in layout:
        del fields['l:["u","rest-admin","starter"]']
        fields["l:s"] = ""
    return fields


def run(layout: str, r: redis.Redis) -> None:
    r.flushall()
    before = r.info("memory")["used_memory"]
    pipe = r.pipeline(transaction=False)
    for n in range(N):
        shard = n % 16
        instance_id = (10 + shard) * 10**12 + 1 + 2 * (n // 16)
        task_id = instance_id + 1
        base = f"bpm:{{s{shard}}}:"
        pipe.hset(base + f"i:{instance_id}", mapping=instance_fields(n, task_id, layout))
        task = {
            "p": str(instance_id),
            "d": "oneTaskProcess:1:6",
            "k": "processTask",
            "n": "Process task",
            "ai": "0.2",
            "ct": str(START),
        }
        if "D" in layout:
            del task["d"]
        pipe.hset(base + f"tk:{task_id}", mapping=task)
        if "R" in layout:
            pipe.hset(
                base + f"h:{instance_id}",
                mapping={"@": str(START), "0.0": "0|theStart|0", "0.1": "0|flow1|0", "0.2": "0|processTask|"},
            )
        elif "H" not in layout:
            pipe.hset(
                base + f"h:{instance_id}",
                mapping={
                    "0.0": f"{START}|theStart|{START}",
                    "0.1": f"{START}|flow1|{START}",
                    "0.2": f"{START}|processTask|",
                },
            )
        if "B" in layout:
            pipe.hset(base + f"bk:{bucket(f'bench-{n}')}", f"bench-{n}", str(instance_id))
        else:
            pipe.zadd(base + f"b:bench-{n}", {str(instance_id): 0})
        for index, member in (("open", instance_id), ("k:oneTaskProcess", instance_id), ("to", task_id)):
            if "C" in layout:
                chunk = str(member)[:-2]
                pipe.zadd(base + f"c{chunk}:{index}", {str(member): 0})
                pipe.zadd(base + f"x:{index}", {chunk: 0})
                pipe.hincrby(base + "n", index, 1)
            else:
                pipe.zadd(base + index, {str(member): 0})
        if n % 1000 == 999:
            pipe.execute()
    pipe.execute()
    used = r.info("memory")["used_memory"] - before
    print(f"{layout}: {used / N:.0f} bytes and {r.dbsize() / N:.2f} keys per instance ({N} instances)")


def main() -> None:
    layouts = sys.argv[1:] or ["layout1"]
    for layout in layouts:
        if layout != "layout1" and set(layout) - set("HBTSDRC"):
            sys.exit(f"unknown layout {layout!r}: 'layout1' or letters of HBTSDRC")
        if "H" in layout and "R" in layout:
            sys.exit(f"layout {layout!r}: H and R place the activity records differently")
    r = redis.Redis(port=PORT)
    for layout in layouts:
        run(layout, r)


if __name__ == "__main__":
    main()
