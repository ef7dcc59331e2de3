"""The API bench's load: wrk (C) with a Lua script, pinned to its own CPU, and what it measured.

Every connection is a customer polling in a closed loop. The script reads the pollers file
(`order_id<TAB>token<TAB>etag` lines), builds each request once (Authorization: Bearer, and
If-None-Match for the 304 case) and hands them out in turn, so 200 connections spread over all
the orders; it counts responses by status and prints one JSON line from `done()`. The paced
variant adds `delay()`: each connection pauses between an answer and its next request, as
customers polling now and then do, instead of asking again at once.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from .servers import executable

MARK = "BENCH-JSON "
WRK_TIMEOUT = "10s"  # slower answers count as timeouts, not in the percentiles: none expected

# each connection pauses a random time (exponential, mean `think` ms: customers polling on their
# own clocks) before each request, its first included: a fixed pause would keep all connections
# in step, and each burst of them would queue behind itself
PACED = r"""
function delay()
  return math.floor(-think * math.log(1 - math.random()))
end
"""

SCRIPT = r"""
local threads, started = {}, 0
local reqs, n, i = {}, 0, 0
statuses = {}

function setup(thread)
  started = started + 1
  thread:set("tid", started)
  table.insert(threads, thread)
end

function init(args)
  local path, mode = args[1], args[2]
  think = tonumber(args[4]) or 0
  math.randomseed(tid)
  if mode == "plain" then
    reqs[1] = wrk.format("GET", args[3])
  else
    for line in io.lines(path) do
      local id, token, etag = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
      local headers = {["Authorization"] = "Bearer " .. token}
      if mode == "not_modified" then headers["If-None-Match"] = etag end
      if mode ~= "not_modified" or etag ~= "" then
        reqs[#reqs + 1] = wrk.format("GET", "/api/v1/orders/" .. id .. "/progress", headers)
      end
    end
  end
  n = #reqs
  -- threads start at different orders
  i = ((tid - 1) * 7919) % n
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts, parts = {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do counts[k] = (counts[k] or 0) + v end
  end
  for k, v in pairs(counts) do parts[#parts + 1] = string.format('"%d": %d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ", ")))
end
"""


@dataclass(frozen=True)
class Load:
    """One wrk run: responses by status, latency percentiles, and the CPU both sides used."""

    name: str
    seconds: float
    statuses: dict[int, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    server_cpu: float  # cores the server process used on average
    client_cpu: float  # cores wrk used on average
    note: str = ""
    wanted: int = 200  # the status that counts as an answer

    @property
    def answered(self) -> int:
        return self.statuses.get(self.wanted, 0)

    @property
    def rps(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0

    @property
    def per_core(self) -> float:
        """Answers per second of server CPU: steadier than `rps` when other work shares the core."""
        return self.rps / self.server_cpu if self.server_cpu > 0 else 0.0

    @property
    def others(self) -> dict[int, int]:
        """Responses with another status than the wanted one."""
        return {s: c for s, c in self.statuses.items() if s != self.wanted}


@dataclass
class Wrk:
    """wrk against one server, on its own CPUs, with the pollers file and the script."""

    url: str
    pollers_file: Path
    script: Path
    connections: int
    threads: int
    cpus: set[int]
    server_pid: int
    paced_script: Path
    runs: list[Load] = field(default_factory=list)

    @classmethod
    def prepare(
        cls,
        url: str,
        pollers_file: Path,
        connections: int,
        cpus: set[int],
        server_pid: int,
    ) -> Wrk:
        """Write the Lua script next to the pollers file."""
        script = pollers_file.with_name("bench_api.lua")
        script.write_text(SCRIPT)
        # wrk only calls delay() when the script defines it, so the paced script is another file
        paced = pollers_file.with_name("bench_api_paced.lua")
        paced.write_text(SCRIPT + PACED)
        threads = max(1, min(len(cpus), connections))
        return cls(url, pollers_file, script, connections, threads, cpus, server_pid, paced)

    def run(
        self,
        name: str,
        mode: str,
        duration_s: int,
        path: str = "",
        wanted: int = 200,
        think_ms: int = 0,
    ) -> Load:
        """Run wrk for `duration_s` (mode: progress, not_modified, or plain `path`); with
        `think_ms`, each connection pauses that long between an answer and its next request."""
        argv = [
            executable("wrk"),
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{duration_s}s",
            f"--timeout={WRK_TIMEOUT}",
            "-s",
            str(self.paced_script if think_ms else self.script),
            self.url,
            "--",
            str(self.pollers_file),
            mode,
            path,
            str(think_ms),
        ]
        server = psutil.Process(self.server_pid)
        server_t0 = _cpu_s(server)
        client_t0 = _children_cpu_s()
        t0 = time.monotonic()
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=duration_s + 60,
            preexec_fn=functools.partial(os.sched_setaffinity, 0, self.cpus),
        )
        wall = time.monotonic() - t0
        server_cpu = (_cpu_s(server) - server_t0) / wall
        client_cpu = (_children_cpu_s() - client_t0) / wall
        lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
        raw = json.loads(lines[-1][len(MARK) :])
        load = Load(
            name=name,
            seconds=raw["duration_us"] / 1e6,
            statuses={int(k): int(v) for k, v in raw["statuses"].items()},
            p50_ms=raw["p50_us"] / 1000,
            p90_ms=raw["p90_us"] / 1000,
            p99_ms=raw["p99_us"] / 1000,
            max_ms=raw["max_us"] / 1000,
            errors={k: int(v) for k, v in raw["errors"].items() if v},
            server_cpu=server_cpu,
            client_cpu=client_cpu,
            wanted=wanted,
        )
        self.runs.append(load)
        return load


def _cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
