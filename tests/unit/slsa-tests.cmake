# Unit tests of the SLSA Provenance v1 predicate builder and parser (lib/format/slsa.c).
hwsign_unit_test(test-slsa SOURCES test-slsa.c LIBS hwsign_format)
