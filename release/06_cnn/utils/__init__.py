"""The part of the workbook's ``utils`` library that comes with 06_cnn.

    mnist     MNIST handwritten digits: a loader that works online, offline and in a grader's sandbox
    plotting  The course's plot style and the plots every assignment shares
    runtime   Run-time switches shared by every notebook
    solver    The course's one training loop, in the spirit of CS231n's ``Solver``
    testing   Friendly checks for the notebooks' test cells
    validate  Check your whole notebook before you submit: ``python -m utils.validate NOTEBOOK.ipynb``

Import modules by name, e.g. ``from utils import testing``. Before you submit, check the
whole notebook from this folder: ``python -m utils.validate NOTEBOOK.ipynb``.
"""
