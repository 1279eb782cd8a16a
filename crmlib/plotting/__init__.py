"""Figure code, one private module per analysis; the public names are in :mod:`crmlib.plots`."""
