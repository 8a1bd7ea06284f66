# Fuzz harness for the signing-log scanner and record codec (lib/format/logrec.c); corpus in
# corpus/logrec/ (small valid logs from test-mklog, torn and damaged variants).
hwsign_fuzz(logrec SOURCES fuzz-logrec.c LIBS hwsign_format)
