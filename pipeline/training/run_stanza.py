"""Run a Stanza trainer module (`python -m pipeline.training.run_stanza stanza.models.tagger ...`)
with the CPU speed fixes of `pipeline.nlp.torch_fixes` applied first."""
import runpy
import sys

from pipeline.nlp.torch_fixes import patch_bilinear

if __name__ == "__main__":
    patch_bilinear()
    module = sys.argv[1]
    sys.argv = [module] + sys.argv[2:]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
