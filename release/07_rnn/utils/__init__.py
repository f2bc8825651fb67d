"""The part of the workbook's ``utils`` library that comes with 07_rnn.

    char_data      Names as character data for the language-model part of the RNN assignment (data only; no model)
    plotting       The course's plot style and the plots every assignment shares
    rnn_utils      The two activation helpers of the RNN assignment (07_rnn), from assignment 01
    runtime        Run-time switches shared by every notebook
    sequence_data  The sine-wave sequence data set of the RNN assignment (data only; no model)
    solver         The course's one training loop, in the spirit of CS231n's ``Solver``
    testing        Friendly checks for the notebooks' test cells
    validate       Check your whole notebook before you submit: ``python -m utils.validate NOTEBOOK.ipynb``

Import modules by name, e.g. ``from utils import testing``. Before you submit, check the
whole notebook from this folder: ``python -m utils.validate NOTEBOOK.ipynb``.
"""
