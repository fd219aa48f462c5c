"""The data layer: params (:mod:`.params`), sources (:mod:`.sources`), the presets for other tools'
exports (:mod:`.formats`), the drop rules and column paths (:mod:`.rules`), the users table (:mod:`.users`), integer keys (:mod:`.keys`), the activity cache
(:mod:`.cache`), the load pipeline (:mod:`.load`), the loaded log (:mod:`.log`), the engine
(:mod:`.engine`, :mod:`.backends`) and the datasets (:mod:`.datasets`).

Everything above this layer starts from an :class:`EventLog` and returns small pandas frames
through :func:`fetch`.
"""

from .engine import fetch
from .load import load_events
from .log import DataQuality, EventLog
from .params import Params, load_params, params_from_dict

__all__ = ["EventLog", "DataQuality", "load_events", "fetch", "Params", "load_params", "params_from_dict"]
