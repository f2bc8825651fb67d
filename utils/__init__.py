"""The student's library of the deep-learning workbook: data, plots and friendly checks.

It holds no answer: no module here implements a function graded in an assignment that uses it
(the answer key is the instructor's ``course/reference``). Each assignment's bundle carries only
the modules its notebook imports. Import modules by name, e.g.
``from utils.planar_utils import load_planar_dataset``.

Shared by every notebook
    ``runtime``          the quick-mode switch the grader sets (``quick_mode``, ``pick``), BLAS threads
    ``solver``           the course's one training loop, ``Solver`` (your step, epochs, mini-batches, history)
    ``testing``          friendly checks of the visible tests, and ``expected(...)`` values
    ``plotting``         the course's plot style, decision boundaries, learning curves, image grids
    ``validate``         ``python -m utils.validate NOTEBOOK``: which graded functions pass the visible tests

Datasets
    ``planar_utils``     the flower dataset and friends (deeplearning.ai compatible)
    ``testCases_v2``     the canonical inputs of the shallow-network exercise
    ``datasets``         small 2-D datasets for the optimisation assignment
    ``mnist``            MNIST: explicit path, ``MNIST_PATH``, cache, OpenML, or a shipped sample
    ``sequence_data``    the sine-wave windows of the RNN assignment
    ``char_data``        names as characters for the RNN assignment's language model

Earlier assignments' building blocks, offered to later ones (each notebook says which)
    ``backprop_helpers`` flattening parameter dicts to vectors and back (03)
    ``optim_network``    the L-layer network of 03, for the optimiser race of 05
    ``rnn_utils``        the canonical softmax and sigmoid helpers of the RNN assignment

Conventions: examples are columns (``X`` has shape ``(n_x, m)``), parameters live in dicts
``W1, b1, ...``; convolutions are NHWC ``(m, n_H, n_W, n_C)``; RNN inputs are ``(n_x, m, T_x)``.
"""
try:  # tqdm's monitor thread can leave a later widget cell's reply waiting forever under
    import tqdm as _tqdm  # nbclient (seen in 05); the course's progress bars do not need it

    _tqdm.tqdm.monitor_interval = 0
    del _tqdm
except ImportError:  # pragma: no cover - tqdm is a pinned dependency
    pass
