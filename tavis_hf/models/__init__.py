"""The models of tavis_hf (`imagebind`, `tavis`); each registers itself with transformers' Auto classes.

transformers is imported here, before any model module runs: when this is the process's first
`import transformers`, the post-import hook of `tavis_hf._registration` imports every registering module while no
model module is half-initialised.
"""

import transformers  # noqa: F401
