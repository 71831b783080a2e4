"The lab: a compositional world of coloured shapes, its exact oracle, and a tiny Stable Diffusion trained on it."

def __getattr__(name):  # `mi_nb.lab.load_pipeline()` without importing torch for `mi_nb.lab.world` users
    if name in ('load_pipeline', 'lab_weights_dir'):
        from . import model
        return getattr(model, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
