# Fuzz harnesses for lib/util parsers (corpora in corpus/<target>/).
hwsign_fuzz(sbuf SOURCES fuzz-sbuf.c LIBS hwsign_util)
hwsign_fuzz(base64 SOURCES fuzz-base64.c LIBS hwsign_util)
hwsign_fuzz(secret-source SOURCES fuzz-secret-source.c LIBS hwsign_util)
