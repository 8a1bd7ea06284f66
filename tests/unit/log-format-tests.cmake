# Unit tests of the tamper-evident log building blocks in lib/format: RFC 6962 Merkle trees,
# C2SP signed notes and tlog checkpoints (FORMATS 7).
hwsign_unit_test(test-merkle SOURCES test-merkle.c LIBS hwsign_format)
hwsign_unit_test(test-note SOURCES test-note.c LIBS hwsign_format)
hwsign_unit_test(test-checkpoint SOURCES test-checkpoint.c LIBS hwsign_format)
