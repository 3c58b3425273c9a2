"""What-if: fork the twin, plan a different future, simulate it ahead Monte-Carlo style in worker processes, compare.

Modules (imported by name, so that the API starts without the simulator's numpy/scipy): ``fork`` (snapshot and
restore an engine), ``plan`` (the ``Plan`` model and its validation), ``run`` (Monte-Carlo runs and results),
``estimate`` (the simulator's state of machines fed by real data), ``jobs`` (scenario jobs of the API).
"""
