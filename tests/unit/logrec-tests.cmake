# Unit tests of the signing-log record codec and whole-file scan (lib/format/logrec.c).
hwsign_unit_test(test-logrec SOURCES test-logrec.c LIBS hwsign_format)
