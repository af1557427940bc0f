"""Publishing variants: a project's `[variant]` table built, variant by variant, through its own
PEP 517 backend with each variant's compiler flags, into variant wheels and `variants.json`."""
