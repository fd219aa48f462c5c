"""Building blocks that know nothing of an event log: calendar periods as integers
(:mod:`.periods`), per-user day gaps (:mod:`.cadence`), the statistics (:mod:`.stats`), the
condition language of rungs and cohorts (:mod:`.conditions`) and report text (:mod:`.text`)."""
