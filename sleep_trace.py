import time, threading
from common import *
g = graphs.sleep_dag(); starts = {}
t0 = [0.0]
def wrap(node):
    def f(*a):
        starts[node.key] = time.perf_counter() - t0[0]
        return node.func(*a)
    return f
reg = flowlite.Registry(flowlite.task(wrap(n), inputs=list(n.inputs), outputs=n.key, name=n.key) for n in g.nodes)
p = flowlite.plan(reg, available={"start"})
print("ready order of stage 0:", [t.name for t in p.stages[0]][:10])
for _ in range(2):
    t0[0] = time.perf_counter(); flowlite.run(p, g.initial, max_workers=8); total = time.perf_counter() - t0[0]
print(f"makespan {total*1e3:.1f} ms; branch started at {starts['branch']*1e3:.1f} ms; layer0 starts {sorted(round(v*1e3,1) for k,v in starts.items() if k.startswith('layer0'))}")
