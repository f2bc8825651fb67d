"""The part of the workbook's ``utils`` library that comes with 03_backprop.

    backprop_helpers  Gradient-checking helpers for assignment 3: flatten a parameter dict into one vector and back
    plotting          The course's plot style and the plots every assignment shares
    runtime           Run-time switches shared by every notebook
    testing           Friendly checks for the notebooks' test cells
    validate          Check your whole notebook before you submit: ``python -m utils.validate NOTEBOOK.ipynb``

Import modules by name, e.g. ``from utils import testing``. Before you submit, check the
whole notebook from this folder: ``python -m utils.validate NOTEBOOK.ipynb``.
"""
