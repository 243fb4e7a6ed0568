"""Private pieces of ``nn.functional``, one file per family; ``functional.py`` re-exports them."""
