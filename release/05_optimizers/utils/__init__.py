"""The part of the workbook's ``utils`` library that comes with 05_optimizers.

    datasets       Small two-dimensional toy datasets for the optimisation assignment (examples as columns)
    optim_network  A small L-layer dense network for the races of 05_optimizers, built from earlier assignments
    plotting       The course's plot style and the plots every assignment shares
    runtime        Run-time switches shared by every notebook
    solver         The course's one training loop, in the spirit of CS231n's ``Solver``
    testing        Friendly checks for the notebooks' test cells
    validate       Check your whole notebook before you submit: ``python -m utils.validate NOTEBOOK.ipynb``

Import modules by name, e.g. ``from utils import testing``. Before you submit, check the
whole notebook from this folder: ``python -m utils.validate NOTEBOOK.ipynb``.
"""
