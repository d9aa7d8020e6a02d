import tracemalloc, gc, sys
from common import *
size = 10_000
g = graphs.chain(size); _, p = plan_of(g)
flowlite.run(p, g.initial)
for name, call in (("run", lambda: flowlite.run(p, g.initial)), ("stream", lambda: [None for _ in flowlite.stream(p, g.initial)])):
    gc.collect(); tracemalloc.start(25)
    r = call()
    cur, peak = tracemalloc.get_traced_memory()
    snap = tracemalloc.take_snapshot(); tracemalloc.stop()
    print(f"== {name}: peak {peak/2**20:.2f} MiB, retained at end {cur/2**20:.2f} MiB")
    for stat in snap.statistics("lineno")[:8]:
        print(f"   {stat.size/2**10:8.0f} KiB {stat.count:7d} blocks  {stat.traceback[0].filename.split('/')[-2:]}:{stat.traceback[0].lineno}")
    del r
