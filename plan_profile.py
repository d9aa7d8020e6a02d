import cProfile, pstats, time, gc, statistics, sys, graphlib
from common import *
def graphlib_alone(g):
    producers = {n.key for n in g.nodes}
    deps = {n.key: tuple(k for k in n.inputs if k in producers) for n in g.nodes}
    for _ in graphlib.TopologicalSorter(deps).static_order(): pass
for size in (1000, 10000, 100000):
    g = graphs.random_dag(size); reg, _ = plan_of(g)
    for gc_on in (True, False):
        if not gc_on: gc.disable()
        a=[];b=[]
        for _ in range(3):
            t=time.perf_counter(); flowlite.plan(reg, available={"start"}); a.append(time.perf_counter()-t)
            t=time.perf_counter(); graphlib_alone(g); b.append(time.perf_counter()-t)
        gc.enable()
        print(f"{size:>7} gc={'on ' if gc_on else 'off'} flowlite {statistics.median(a)/len(g)*1e6:6.2f} us/task  graphlib {statistics.median(b)/len(g)*1e6:6.2f} us/task")
g = graphs.random_dag(100000); reg,_ = plan_of(g)
pr = cProfile.Profile(); pr.enable(); flowlite.plan(reg, available={"start"}); pr.disable()
pstats.Stats(pr).sort_stats("tottime").print_stats(10)
