"""Ground-layer helpers shared by the analyses: argument checks (:mod:`crmlib.utils.validation`),
estimates of shares, means and NPS on :mod:`crmlib.intervals` (:mod:`crmlib.utils.estimates`)
and headline figures with their reliability rules (:mod:`crmlib.utils.figures`)."""
