"""The student's library of the deep-learning workbook.

Import modules by name, e.g. ``from utils.planar_utils import load_planar_dataset``.

Shared by every notebook
    ``runtime``        the quick-mode switch the grader sets (``quick_mode``, ``pick``)
    ``testing``        friendly checks used by visible and hidden tests
    ``plotting``       the course's plot style, decision boundaries, learning curves, image grids

Datasets
    ``planar_utils``   the flower dataset and friends (deeplearning.ai compatible)
    ``datasets``       small 2-D datasets for the optimisation assignment
    ``mnist``          MNIST: explicit path, ``MNIST_PATH``, cache, OpenML, or a shipped sample
    ``sequence_data``  the sine-wave windows and a small RNN regressor

Reference implementations (fast, vectorised; the notebooks have you write the readable version)
    ``activations``    sigmoid, tanh, ReLU, leaky ReLU, softmax and derivatives
    ``losses``         one-hot labels, cross-entropies and their gradients
    ``dense``          an L-layer dense network described by a list of layer dicts
    ``gradient_check`` parameter flattening and centred-difference gradient checking
    ``autodiff``       a tiny scalar reverse-mode autodiff engine
    ``optimizers``     SGD, momentum, RMSprop, Adam, learning-rate schedules
    ``minibatch``      shuffled mini-batches
    ``mlp``            a fast MLP for MNIST (float32, Adam)
    ``cnn_utils``      convolution and pooling, forward and backward (NHWC, im2col)
    ``cnn_model``      a small CNN for MNIST built from ``cnn_utils``
    ``rnn_utils``      RNN and LSTM cells, forward and backward through time
    ``char_model``     a character-level language model of names
    ``testCases_v2``   the canonical inputs of the shallow-network exercise

Conventions: examples are columns (``X`` has shape ``(n_x, m)``), parameters live in dicts
``W1, b1, ...``; convolutions are NHWC ``(m, n_H, n_W, n_C)``; RNN inputs are ``(n_x, m, T_x)``.
"""
