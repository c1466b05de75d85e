"""``python -m tavis_hf.training ...`` (and ``accelerate launch -m tavis_hf.training ...``, ``tavis-hf train``): a
TAViS training run; ``--help`` lists the options."""

from .loop import main

if __name__ == "__main__":
    main(prog="python -m tavis_hf.training")
