"""Training the neural surrogate compiler: corpus generation and execution, the hypernetwork model, its training
loop and export. Imports torch (the compile path never imports this package)."""
