import cProfile, pstats, time, statistics, sys
from common import *
size = int(sys.argv[1]); workers = None if sys.argv[2] == "default" else int(sys.argv[2])
g = graphs.chain(size); _, p = plan_of(g)
flowlite.run(p, g.initial, max_workers=workers)
def floor():
    v = dict(g.initial)
    for n in g.nodes: v[n.key] = n.func(*[v[k] for k in n.inputs])
ts=[];fs=[]
for _ in range(7):
    t=time.perf_counter(); flowlite.run(p, g.initial, max_workers=workers); ts.append(time.perf_counter()-t)
    t=time.perf_counter(); floor(); fs.append(time.perf_counter()-t)
print(f"chain_{size} workers={workers}: run {statistics.median(ts)*1e3:.2f} ms floor {statistics.median(fs)*1e3:.2f} ms overhead {(statistics.median(ts)-statistics.median(fs))/size*1e6:.2f} us/task")
pr = cProfile.Profile(); pr.enable(); flowlite.run(p, g.initial, max_workers=workers); pr.disable()
st = pstats.Stats(pr); st.sort_stats("tottime").print_stats(12)
