"""The formats wing: files specmon reads and writes for people and other tools.

``sigmf`` (SigMF IQ recordings), ``sweepio`` (rtl_power / hackrf_sweep CSV, RTLSDR-Scanner .rfs, specmon's
own sweep files) and ``plot`` (spectrum and waterfall images).
"""
