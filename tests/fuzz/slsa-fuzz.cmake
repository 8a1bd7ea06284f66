# Fuzz harness for the SLSA Provenance v1 predicate parser and builder (lib/format/slsa.c);
# corpus in corpus/slsa/ (the FORMATS 3.2 shape with TypeURIs, a full predicate, edge cases).
hwsign_fuzz(slsa SOURCES fuzz-slsa.c LIBS hwsign_format)
