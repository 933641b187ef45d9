"""Pact matching: a request or response against an expectation, as a list of mismatches.

"Matched" means the list is empty, so one code path both decides and explains.
"""
