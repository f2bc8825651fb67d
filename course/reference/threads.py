"""The reference trainers' one pool of helper threads.

NumPy releases the GIL in its ufunc loops and BLAS calls, so independent pieces of one training
step run at once on threads: the row blocks of an optimizer's update
(:mod:`course.reference.optimizers`). Work made of many small NumPy calls, where threads would
take turns holding the GIL, goes to helper processes instead (:mod:`course.reference.processes`).
The pool is made on first use and grows to the largest thread count asked for.
"""
_pool, _helpers = None, 0


def in_threads(fn, items, threads):
    """``[fn(item) for item in items]``, computed on up to ``threads`` threads, in order.

    Args:
        fn: a function of one item (it should spend its time in NumPy, which releases the GIL; it
            must not call ``in_threads`` itself: a helper waiting for its own pool could wait for ever).
        items: a list; item ``i`` goes to thread ``i % threads``, the caller's own thread takes
            its share while the others run.
        threads: how many threads at most (1: everything here, no pool).
    Returns:
        the list of results, in the order of ``items``; an exception of any item is raised.
    """
    global _pool, _helpers
    threads = min(int(threads), len(items))
    if threads <= 1:
        return [fn(item) for item in items]
    if _helpers < threads - 1:
        from concurrent.futures import ThreadPoolExecutor

        if _pool is not None:
            _pool.shutdown(wait=False)  # its threads end once idle; the larger pool replaces it
        _pool, _helpers = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="reference"), threads - 1
    futures = [_pool.submit(lambda k=k: [fn(item) for item in items[k::threads]]) for k in range(1, threads)]
    shares = [[fn(item) for item in items[0::threads]]] + [future.result() for future in futures]
    results = [None] * len(items)
    for k, share in enumerate(shares):
        results[k::threads] = share
    return results
