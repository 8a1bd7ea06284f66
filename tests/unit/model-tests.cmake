# Unit tests of lib/model (OpenSSF model signing: walk, parallel hashing, manifest, statement)
# and of the P-384/SHA-384 DSSE verification path of lib/format/bundle.c it needs.
hwsign_unit_test(test-model SOURCES test-model.c LIBS hwsign_model)
hwsign_unit_test(test-model-manifest SOURCES test-model-manifest.c LIBS hwsign_model)
hwsign_unit_test(test-model-bundle SOURCES test-model-bundle.c LIBS hwsign_model)
# Bounded memory: a 2 GiB sparse model hashed with peak RSS checked (getrusage). Seconds on
# SHA-NI hardware, longer under sanitizers: its own executable, so RSS is its own.
hwsign_unit_test(test-model-memory SOURCES test-model-memory.c LIBS hwsign_model)
set_tests_properties(unit/test-model-memory PROPERTIES TIMEOUT 600)
