"""Hugging Face Space entry of the TAViS demo: the app itself ships in the package (`tavis_hf.demo`).

Locally: `tavis-hf demo` (or `python demo/app.py --help`, `python -m tavis_hf.demo --help`).
"""

from tavis_hf.demo import build_demo, launch, main  # noqa: F401  (build_demo, launch: for code that imports the Space)

if __name__ == "__main__":
    main()
