# Fuzz harnesses for lib/format (corpora in corpus/<target>/): DSSE envelopes, in-toto
# Statements, Sigstore bundles. lib/format carries coverage instrumentation from the global
# -fsanitize=fuzzer-no-link in fuzz builds.
hwsign_fuzz(dsse SOURCES fuzz-dsse.c LIBS hwsign_format)
hwsign_fuzz(intoto SOURCES fuzz-intoto.c LIBS hwsign_format)
hwsign_fuzz(bundle SOURCES fuzz-bundle.c LIBS hwsign_format)
