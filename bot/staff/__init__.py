"""Tools for clinic staff: the `massagebot` command line, the test shell and privacy requests."""
