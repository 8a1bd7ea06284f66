# Fuzz harness for the model-signing manifest parser (lib/model/model-manifest.c, reading a
# verified in-toto Statement) and the model path rules; corpus in corpus/model-manifest/ (the
# upstream v1.1.0 payload, the FORMATS 6.5 goldens in files and shards form, edge cases).
hwsign_fuzz(model-manifest SOURCES fuzz-model-manifest.c LIBS hwsign_model)
