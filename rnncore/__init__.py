"""rnncore: reference NumPy implementations for the rnnbook textbook.

Every public function of the submodules is re-exported here, so that
``rnncore.rnn_cell_forward`` and ``from rnncore.rnn_cell import rnn_cell_forward``
name the same object. Letters used in shapes across the package:

N batch size, T sequence length, D input features, H hidden units,
V vocabulary size, E embedding size.
"""

import sys as _sys

from ._guard import ReferenceCallRefused
from .attention import *  # noqa: F403
from .attention_multiplicative import *  # noqa: F403
from .batching import *  # noqa: F403
from .bidirectional import *  # noqa: F403
from .data import *  # noqa: F403
from .decoding import *  # noqa: F403
from .diagnostics import *  # noqa: F403
from .dropout import *  # noqa: F403
from .encoder import *  # noqa: F403
from .functional import *  # noqa: F403
from .gradcheck import *  # noqa: F403
from .gru import *  # noqa: F403
from .gru_cell import *  # noqa: F403
from .init import *  # noqa: F403
from .layers import *  # noqa: F403
from .lm import *  # noqa: F403
from .lstm import *  # noqa: F403
from .lstm_cell import *  # noqa: F403
from .optim import *  # noqa: F403
from .recurrent import *  # noqa: F403
from .rnn import *  # noqa: F403
from .rnn_cell import *  # noqa: F403
from .sampling import *  # noqa: F403
from .schedules import *  # noqa: F403
from .seq2seq import *  # noqa: F403
from .seq2seq_params import *  # noqa: F403
from .seq2seq_train import *  # noqa: F403
from .shakespeare import *  # noqa: F403
from .stacked import *  # noqa: F403
from .tasks import *  # noqa: F403
from .tasks_seq2seq import *  # noqa: F403
from .torch_bridge import *  # noqa: F403
from .training import *  # noqa: F403
from .vocab import *  # noqa: F403

__version__ = "0.1.0"

# Read the submodules from sys.modules: names such as ``gradcheck`` are both a
# module and a function, and the star imports above rebind them to the function.
_SUBMODULES = (
    "vocab",
    "functional",
    "init",
    "rnn_cell",
    "gru_cell",
    "lstm_cell",
    "rnn",
    "gru",
    "lstm",
    "layers",
    "recurrent",
    "bidirectional",
    "stacked",
    "gradcheck",
    "optim",
    "diagnostics",
    "sampling",
    "lm",
    "tasks",
    "training",
    "data",
    "attention",
    "attention_multiplicative",
    "decoding",
    "torch_bridge",
    "encoder",
    "seq2seq_params",
    "seq2seq",
    "seq2seq_train",
    "tasks_seq2seq",
    "dropout",
    "batching",
    "shakespeare",
    "schedules",
)
__all__ = ["ReferenceCallRefused"] + [
    name for module in _SUBMODULES for name in _sys.modules[f"{__name__}.{module}"].__all__
]
