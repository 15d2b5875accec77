"""Harness adapters: problem sets in the field's formats -> measured runs -> scores.

Candidates and references are measured on the same platform in the same session; results are
appended to a JSONL file as they complete, so a rerun skips what is done and a killed run loses
at most the sample in flight."""
