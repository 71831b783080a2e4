__version__ = "0.1.0"

# The package's top level (chapter 11): nbdev writes the version line above; the rest is kept by hand. Each public name
# is imported from its module the first time it is used (PEP 562), so that `import mi_nb` stays light: `mi-nb --version`
# and `import mi_nb.lab.world` load neither torch nor diffusers.
import importlib as _importlib, sys as _sys, types as _types

_API = dict(mitune='mitune', load_pipeline='core', load_tuned='core', MIRecorder='mi', SynthSet='set_format',
            check_set='set_format', records='set_format', BuildConfig='build_set', build_set='build_set',
            FinetuneConfig='finetune', finetune='finetune', mitune_rounds='mitune', load_scorer='evaluate',
            evaluate_pipeline='evaluate')  # name: the module that defines it
__all__ = list(_API)


def __getattr__(name: str):
    if name not in _API: raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(_importlib.import_module(f'{__name__}.{_API[name]}'), name)
    globals()[name] = value
    return value


def __dir__() -> list: return sorted(set(globals()) | set(__all__))


class _Package(_types.ModuleType):
    """The import system binds a submodule to its package once it is loaded. Three modules bear the name of the function
    they define (`build_set`, `finetune`, `mitune`): those names stay the functions', whichever was imported first (the
    modules are `mi_nb.build_set` in `sys.modules`, for `from mi_nb.build_set import ...`)."""
    def __setattr__(self, name: str, value):
        if name in _API and isinstance(value, _types.ModuleType): return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
