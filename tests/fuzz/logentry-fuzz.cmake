# Fuzz harness for the signing log's transparency-log entries (lib/format/logentry.c): entry
# bodies (logentry_parse, rebuilt with logentry_body) and bundle TransparencyLogEntry objects
# (logentry_tlog_parse / _build). Corpus in corpus/logentry/: entries and tlog entries written
# by logentry.c for test records, and malformed variants.
hwsign_fuzz(logentry SOURCES fuzz-logentry.c LIBS hwsign_format)
