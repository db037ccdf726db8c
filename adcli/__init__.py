"""adcli: expressions to computation graphs, values and exact gradients."""

from . import notebook as _notebook
from .api import Expression, compile
from .displayed import Displayed as _Displayed
from .errors import AdcliError

# Results show themselves (Jupyter's HTML; the terminal's text as repr) through the
# writers of the command line's layer, which the core may not import: given here.
_Displayed.show = staticmethod(_notebook.show)

__version__ = "0.1.0"

__all__ = ["AdcliError", "Expression", "compile", "__version__"]
