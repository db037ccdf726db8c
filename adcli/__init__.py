"""adcli: expressions to computation graphs, values and exact gradients."""

from .api import Expression, compile
from .errors import AdcliError

__version__ = "0.1.0"

__all__ = ["AdcliError", "Expression", "compile", "__version__"]
