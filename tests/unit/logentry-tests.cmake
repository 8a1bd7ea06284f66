# Unit tests of the signing log's transparency-log entries (lib/format/logentry.c), the bundle's
# tlogEntries (lib/format/bundle.c) and the LOG_PROOF wire message (lib/proto).
hwsign_unit_test(test-logentry SOURCES test-logentry.c LIBS hwsign_format hwsign_proto)
