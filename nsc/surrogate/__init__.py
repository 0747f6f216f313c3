"""The surrogate: an MLP with input/output normalisation, its ONNX form, its torch view and fine-tuning.

Modules, one job each:
  params.py      `SurrogateParams`: the numpy weights every stage exchanges (no torch, no onnx)
  init.py        `random_params`: torch-default-like random initialisation, in numpy
  onnx_io.py     params + signature + metadata <-> ONNX (numpy + onnx only), saving (nsc/outputs.py), history
  torch_model.py the torch view (single and batched), for fine-tuning          (imports torch)
  finetune.py    the batched fine-tuning engine: trains many surrogates at once (imports torch)

Importing this package stays cheap and torch-free: import the submodules you need.
"""
