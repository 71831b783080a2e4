__version__ = "0.1.0"

# The package's top level (chapter 11): nbdev writes the version line above; these imports are kept by hand.
from .core import load_pipeline, load_tuned
from .mi import MIRecorder
from .set_format import SynthSet, check_set, records
from .build_set import BuildConfig, build_set
from .finetune import FinetuneConfig, finetune
from .mitune import mitune, mitune_rounds
from .evaluate import load_scorer, evaluate_pipeline

__all__ = ['mitune', 'load_pipeline', 'load_tuned', 'MIRecorder', 'SynthSet', 'check_set', 'records', 'BuildConfig',
           'build_set', 'FinetuneConfig', 'finetune', 'mitune_rounds', 'load_scorer', 'evaluate_pipeline']
