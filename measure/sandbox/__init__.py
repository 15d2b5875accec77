"""The sandboxed worker: launch (C, before exec), the stdlib-only worker, the parent's protocol driver."""
