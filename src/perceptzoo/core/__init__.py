"""Shared plumbing every family uses: contracts, registry, configs, run folders, the Trainer.

`core` knows the contracts, never a family: families import `core`, not the reverse.
"""

from perceptzoo.errors import UserError

__all__ = ["UserError"]
