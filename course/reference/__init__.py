"""The answer key: fast, vectorised reference implementations of every graded function.

Instructor's side only. The hidden checks (``course.checks``), the benchmarks and ``source/``
use these modules; a student's bundle and the grading kernel never contain them. The canonical
deeplearning.ai step-by-step APIs keep their names and signatures here (NHWC convolutions,
``hparameters`` dicts, caches as in that course; CS231n's for batch normalisation).

    activations    sigmoid, tanh, ReLU, leaky ReLU, softmax and derivatives
    losses         one-hot labels, cross-entropies and their gradients
    dense          an L-layer dense network described by a list of layer dicts
    gradient_check parameter flattening and centred-difference gradient checking
    autodiff       a tiny scalar reverse-mode autodiff engine
    optimizers     SGD, momentum, RMSprop, Adam, learning-rate schedules
    minibatch      shuffled mini-batches
    mlp            a fast MLP for MNIST (float32, Adam)
    cnn_utils      convolution and pooling, forward and backward (NHWC, im2col)
    cnn_model      a small CNN for MNIST built from ``cnn_utils``
    rnn_utils      RNN and LSTM cells, forward and backward through time
    char_model     a character-level language model of names
    sequence_data  a small RNN regressor for the sine windows
"""
