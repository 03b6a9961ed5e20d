"""Text data for the small language model.

- `generative.text.tokenizers`: character and byte-level BPE tokenizers, saved as JSON.
- `generative.text.shakespeare`: the Shakespeare corpus (fetched once at set-up) with a fixed
  train/validation split by whole works.
- `generative.text.streams`: text as one token stream: the dataset `fit` draws random windows
  from, and exact scoring in consecutive windows.
- `generative.text.saved`: a trained language model on disk (`save_lm`, `load_lm`) and the text
  API agents use (`TextModel`: score, generate, freeze, fine-tune).
- `generative.text.tasks`: synthetic sequence tasks generated from a seed (modular addition,
  repeated segments for induction heads, multi-digit addition).
"""
