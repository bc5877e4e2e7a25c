"""The pure request pipeline: bodies, auth, catalog, validation, rules, fixtures chosen, answers and faults planned."""
