"""The console's own memory of the FastPix workspace (design.md, "Where the layout is going").

- `signature.py`: FastPix's webhook signature (contract §5.3).
- `mirror.py`: the one way into the mirror: apply what FastPix said, never older over newer.
- `intake.py`: a webhook delivery → a recorded event → the mirror.
- `reconcile.py`, `sampler.py`, `lease.py`: the worker's jobs (`manage.py console_worker`).
"""
