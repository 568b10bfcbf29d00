"""The train-evaluate-register kind: preprocess, GPU spot training, evaluation, quality gate, registration."""
