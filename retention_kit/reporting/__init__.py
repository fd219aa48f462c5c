"""From analyses to pages: the notebook helpers (:mod:`.report`), CSV exports (:mod:`.exports`),
offline HTML (:mod:`.render`), the output folder (:mod:`.publish`), the runner (:mod:`.runner`)
and the command line (:mod:`.cli`). The report notebooks, the demo params and the HTML template
are package data here (``notebooks/``, ``params/``, ``templates/``)."""
