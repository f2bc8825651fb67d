"""The part of the workbook's ``utils`` library that comes with 02_shallow_net.

    planar_utils  The planar ("flower") classification helpers, compatible with deeplearning.ai's ``planar_utils``
    plotting      The course's plot style and the plots every assignment shares
    runtime       Run-time switches shared by every notebook
    solver        The course's one training loop, in the spirit of CS231n's ``Solver``
    testCases_v2  Fixed inputs for the shallow-network exercise, compatible with deeplearning.ai's ``testCases_v2``
    testing       Friendly checks for the notebooks' test cells
    validate      Check your whole notebook before you submit: ``python -m utils.validate NOTEBOOK.ipynb``

Import modules by name, e.g. ``from utils import testing``. Before you submit, check the
whole notebook from this folder: ``python -m utils.validate NOTEBOOK.ipynb``.
"""
