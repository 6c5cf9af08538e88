"""doublure for Python: run the doublure test double and arrange it from tests.

>>> from doublure import Doublure
>>> with Doublure.start() as server:            # the binary, on a free port
...     token = server.token()                  # a Logora access token
...     server.advance(7201)                    # ... now expired

``Doublure.connect(url)`` attaches to a server that is already running (a
CI service), and ``server.namespace(name)`` is a handle on an isolated
namespace of it. The pytest plugin (installed with the package) gives the
``doublure_server`` and ``doublure`` fixtures.
"""

from importlib import metadata as _metadata

from ._errors import ControlPlaneError, DoublureError, StartError, UnhealthyError
from ._handle import Doublure
from ._process import find_binary

try:
    __version__ = _metadata.version("doublure")
except _metadata.PackageNotFoundError:  # imported from a source checkout
    __version__ = "0+unknown"

__all__ = [
    "ControlPlaneError",
    "Doublure",
    "DoublureError",
    "StartError",
    "UnhealthyError",
    "__version__",
    "find_binary",
]
