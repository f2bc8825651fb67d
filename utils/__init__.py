"""The student's library of the deep-learning workbook.

Modules (import them by name, e.g. ``from utils.planar_utils import load_planar_dataset``):

- ``runtime``: the quick-mode switch that the grader sets, seeding helpers.
- ``testing``: friendly checks used by the visible and hidden tests.
- ``activations``: fast reference activations and their derivatives.
- ``plotting``: the course's plot style, decision boundaries, learning curves.
- ``planar_utils``, ``testCases_v2``: the flower dataset and the shallow-net test cases,
  compatible with the deeplearning.ai helpers of the same names.
- further reference implementations as the assignments need them (dense layers, losses,
  optimizers, MNIST, ``cnn_utils``, ``rnn_utils``).

Conventions: examples are columns (``X`` has shape ``(n_x, m)``), parameters live in dicts
``W1, b1, ...``; convolutions are NHWC; RNN inputs are ``(n_x, m, T_x)``.
"""
