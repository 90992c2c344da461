"""retrograd's benchmarks against PyTorch on the CPU: ``python -m benchmarks`` runs them all.

Layout: ``workloads.py`` (real training steps: GPT, CNN, LSTM LM, large elementwise work),
``micro.py`` (per-op overhead, small models, single large ops, peak memory), ``harness.py``
(interleaved timing and the loss check), ``worker.py`` (one process per thread count),
``__main__.py`` (runs the workers and prints or writes the table). ``bench_core.py``,
``bench_train.py`` and ``bench_ddp.py`` also run on their own as scripts.
"""
