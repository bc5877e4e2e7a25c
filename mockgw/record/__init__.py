"""Record & replay (issue 14): captures of upstream traffic, turned into fixture files; export; drift reports.

Pure: data, derivations, redaction and rendering. The sockets live in mockgw.server.proxy and the fronts.
"""
